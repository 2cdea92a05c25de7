//! English and Swedish, chosen from the browser's `Accept-Language`. Adobe's labels (listing and
//! order statuses, page and column names) are kept as Adobe's guide writes them; the Swedish follows
//! the wording of Adobe's Swedish Channel Manager page where it has one ("Matcha produkter på
//! Walmart Marketplace", "Lageruppdateringar", "orderkontrollpanelen", "Förväntad fördröjning").

use domain::{ListingStatus, Operation, OrderSummary};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    En,
    Sv,
}

impl Lang {
    /// The best of English and Swedish for an `Accept-Language` header (highest q wins; a tie goes
    /// to the earlier entry); English when neither is named.
    pub fn negotiate(header: Option<&str>) -> Lang {
        let mut best: Option<(f32, Lang)> = None;
        for part in header.unwrap_or_default().split(',') {
            let mut fields = part.split(';');
            let tag = fields.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = fields
                .find_map(|f| f.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or_default();
            let lang = match primary {
                "sv" => Lang::Sv,
                "en" => Lang::En,
                _ => continue,
            };
            if q > 0.0 && best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map_or(Lang::En, |(_, l)| l)
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Sv => "sv",
        }
    }

    pub fn text(self) -> &'static Text {
        match self {
            Lang::En => &EN,
            Lang::Sv => &SV,
        }
    }

    pub fn listing_status(self, status: ListingStatus) -> &'static str {
        let t = self.text();
        match status {
            ListingStatus::Draft => t.draft,
            ListingStatus::Processing => t.processing,
            ListingStatus::Match => t.matched,
            ListingStatus::StagedForMatch => t.staged,
            ListingStatus::Error => t.error,
        }
    }

    pub fn order_status(self, status: OrderSummary) -> &'static str {
        let t = self.text();
        match status {
            OrderSummary::Pending | OrderSummary::Open => t.open,
            OrderSummary::PartiallyShipped => t.partially_shipped,
            OrderSummary::Shipped => t.shipped,
            OrderSummary::Canceled => t.canceled,
            OrderSummary::ReturnRequested => t.return_requested,
            OrderSummary::Refunded => t.refunded,
            OrderSummary::Error => t.error,
        }
    }

    pub fn order_state(self, state: operations::dashboard::order_list::OrderState) -> &'static str {
        self.order_status(state.summaries()[0])
    }

    /// Adobe's name of the operation (its seed table), in this language.
    pub fn operation(self, op: Operation) -> &'static str {
        match (self, op) {
            (Lang::En, _) => op.seed_operation(),
            (Lang::Sv, Operation::CatalogImport) => "Lägg till produkter i Channel Manager",
            (Lang::Sv, Operation::ListingMatch) => "Matcha produkter på Walmart Marketplace",
            (Lang::Sv, Operation::InventorySync) => "Lageruppdateringar",
            (Lang::Sv, Operation::PriceSync) => "Prisuppdateringar",
            (Lang::Sv, Operation::OrderImport) => "Order från Walmart till Channel Manager",
            (Lang::Sv, Operation::OrderCreate) => "Ordern skapades i Commerce",
            (Lang::Sv, Operation::ShipmentSync) => "Leveransstatusuppdatering",
            (Lang::Sv, Operation::CancellationSync) => "Orderannulleringsuppdatering",
            (Lang::Sv, Operation::ReturnsSync) => "Returer och återbetalningar",
        }
    }
}

macro_rules! texts {
    ($($name:ident: $en:expr, $sv:expr;)*) => {
        /// Every piece of text the pages show, in one language.
        pub struct Text { $(pub $name: &'static str,)* }
        pub static EN: Text = Text { $($name: $en,)* };
        pub static SV: Text = Text { $($name: $sv,)* };
    };
}

texts! {
    app_name: "Channel Manager", "Channel Manager";
    overview: "Overview", "Översikt";
    listings: "Listings", "Produktlistor";
    orders: "Orders", "Order";
    returns: "Returns", "Returer";
    audit: "Activity", "Aktivitet";
    sign_in: "Sign in", "Logga in";
    sign_out: "Sign out", "Logga ut";
    user: "User", "Användare";
    password: "Password", "Lösenord";
    login_failed: "Wrong user name or password.", "Fel användarnamn eller lösenord.";
    login_throttled: "Too many failed sign-ins. Try again in a few minutes.", "För många misslyckade inloggningar. Försök igen om några minuter.";
    form_expired: "The form expired or was already sent. Reload the page and try again.", "Formuläret har gått ut eller redan skickats. Ladda om sidan och försök igen.";
    signed_in_as: "Signed in as", "Inloggad som";
    // Statuses (Adobe's labels).
    all: "All", "Alla";
    draft: "Draft", "Utkast";
    processing: "Processing", "Bearbetas";
    matched: "Match", "Matchad";
    staged: "Match - Match in Stage", "Matchad - väntar på aktiv butik";
    error: "Error", "Fel";
    open: "Open", "Öppen";
    partially_shipped: "Partially Shipped", "Delvis skickad";
    shipped: "Shipped", "Skickad";
    canceled: "Canceled", "Annullerad";
    return_requested: "Return requested", "Retur begärd";
    refunded: "Refunded", "Återbetald";
    received: "Received", "Mottagen";
    // Overview.
    operation: "Operation", "Åtgärd";
    last_run: "Last run", "Senaste körning";
    outcome: "Outcome", "Resultat";
    latency: "Delay p50 / p99 (24 h)", "Fördröjning p50 / p99 (24 h)";
    documented_delay: "Expected delay", "Förväntad fördröjning";
    failures: "Failures", "Fel";
    queue: "Queue / dead letters", "Kö / döda meddelanden";
    state: "State", "Läge";
    running: "Running", "Körs";
    paused: "Paused", "Pausad";
    pause: "Pause", "Pausa";
    resume: "Resume", "Återuppta";
    budgets: "Walmart's remaining budgets", "Walmarts återstående kvoter";
    needs_you: "Needs your attention", "Behöver din uppmärksamhet";
    all_well: "Nothing needs your attention.", "Inget behöver din uppmärksamhet.";
    never: "never", "aldrig";
    ok: "OK", "OK";
    failed: "Failed", "Misslyckades";
    // Listings.
    product_name: "Product name", "Produktnamn";
    sku: "SKU (Unique ID)", "SKU (unikt id)";
    walmart_item: "Walmart item", "Walmart-artikel";
    quantity: "Advertised quantity", "Annonserat antal";
    price: "Price (Walmart / Commerce)", "Pris (Walmart / Commerce)";
    status: "Status", "Status";
    error_description: "Error description", "Felbeskrivning";
    how_to_fix: "How to fix", "Så åtgärdar du";
    search_sku: "Search by SKU", "Sök på SKU";
    search: "Search", "Sök";
    refresh_products: "Refresh products", "Uppdatera produkter";
    next_page: "Next page", "Nästa sida";
    first_page: "First page", "Första sidan";
    retry_match: "Retry match", "Försök matcha igen";
    match_selected: "Match products on Walmart", "Matcha produkter på Walmart";
    resync: "Resync stock and price now", "Synka lager och pris nu";
    match_mode: "Match imported products", "Matcha importerade produkter";
    match_auto: "automatically", "automatiskt";
    match_manual: "when I select them (they wait in Draft)", "när jag väljer dem (de väntar som utkast)";
    save: "Save", "Spara";
    no_rows: "Nothing to show.", "Inget att visa.";
    // Orders.
    walmart_order: "Walmart Order #", "Walmart-order nr";
    customer_order: "Customer order", "Kundorder";
    commerce_order: "Commerce Order #", "Commerce-order nr";
    items: "Items", "Artiklar";
    order_value: "Order Value", "Ordervärde";
    ordered: "Ordered", "Beställd";
    ship_method: "Ship Method", "Leveranssätt";
    last_update: "Last Update", "Senast uppdaterad";
    status_details: "Status Details", "Statusdetaljer";
    from: "From", "Från";
    to: "To", "Till";
    search_order: "Purchase order or Commerce order #", "Inköpsorder eller Commerce-order nr";
    filter: "Filter", "Filtrera";
    not_found: "No such order.", "Ingen sådan order.";
    order_detail: "Order", "Order";
    totals: "Totals", "Summor";
    walmart: "Walmart", "Walmart";
    commerce: "Commerce", "Commerce";
    items_total: "Items", "Artiklar";
    shipping: "Shipping", "Frakt";
    tax: "Tax", "Moms";
    lines: "Lines", "Rader";
    line: "Line", "Rad";
    ordered_qty: "Ordered", "Beställt";
    shipped_qty: "Shipped", "Skickat";
    cancelled_qty: "Cancelled", "Annullerat";
    returned_qty: "Returned", "Returnerat";
    refunded_qty: "Refunded", "Återbetalt";
    history: "History", "Historik";
    when: "When", "När";
    event: "Event", "Händelse";
    took: "Took", "Tog";
    retry_order: "Retry order", "Försök igen";
    reimport: "Import Walmart orders again", "Importera Walmart-order igen";
    reimport_hint: "Orders already in the channel are recognised and not created twice.", "Order som redan finns i kanalen känns igen och skapas inte två gånger.";
    // Returns.
    return_id: "Walmart return", "Walmart-retur";
    rma: "Commerce return (RMA #)", "Commerce-retur (RMA nr)";
    credit_memo: "Credit memo", "Kreditnota";
    refund: "Refund", "Återbetalning";
    received_at: "Received", "Mottagen";
    retry_return: "Retry return", "Försök igen";
    // Audit.
    who: "Who", "Vem";
    action: "Action", "Åtgärd";
    target: "What", "Vad";
    result: "Result", "Resultat";
    redrive: "Send dead letters back", "Skicka döda meddelanden igen";
    done: "Done.", "Klart.";
    select_listings: "Select listings first.", "Välj produktlistor först.";
    incomplete: "stopped at its deadline, continues next run", "stoppad vid tidsgränsen, fortsätter nästa körning";
    target_delay_note: "No delay documented by Adobe: the channel's own target.", "Ingen fördröjning dokumenterad av Adobe: kanalens eget mål.";
    remaining: "Remaining", "Kvar";
    limit: "Limit per window", "Gräns per period";
    awaiting_selection: "Awaiting selection", "Väntar på val";
    steps: "How long each step took", "Hur lång tid varje steg tog";
    step: "Step", "Steg";
    bound: "Expected within", "Förväntat inom";
    shipments: "Shipments", "Leveranser";
    tracking: "Tracking", "Spårning";
    on_walmart: "On Walmart", "På Walmart";
    status_changed: "Status changed", "Status ändrad";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_language_picks_the_preferred_of_ours() {
        assert_eq!(Lang::negotiate(None), Lang::En);
        assert_eq!(Lang::negotiate(Some("sv-SE,sv;q=0.9,en;q=0.8")), Lang::Sv);
        assert_eq!(Lang::negotiate(Some("de-DE,en;q=0.5,sv;q=0.7")), Lang::Sv);
        assert_eq!(Lang::negotiate(Some("en-US,en;q=0.9,sv;q=0.8")), Lang::En);
        assert_eq!(Lang::negotiate(Some("fr")), Lang::En);
        assert_eq!(Lang::negotiate(Some("sv;q=0")), Lang::En);
    }
}
