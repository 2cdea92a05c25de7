//! The store view's set-up, checked once per client before the channel relies on it.
//!
//! Magento answers 404 `"Request does not match any route."` both for a store code it does not know
//! (`Webapi\\Controller\\PathProcessor` strips only known codes, so the path matches nothing) and for
//! `/V1/inventory/...` on a store whose MSI modules are disabled. Neither says anything about a
//! product, so both are configuration errors with the remedy in the message.

use ports::Deadline;
pub use ports::commerce::StoreSetup;

use crate::client::{Call, CommerceClient};
use crate::error::CommerceError;
use crate::search::SearchCriteria;
use crate::wire::{SourceItem, StoreConfig};

impl CommerceClient {
    /// The store view's set-up (see the module docs); remembered after the first success.
    pub async fn store_setup(
        &self,
        needs_msi: bool,
        deadline: &Deadline,
    ) -> Result<StoreSetup, CommerceError> {
        if let Ok(known) = self.inner.store_setup.lock()
            && let Some((setup, msi_checked)) = known.as_ref()
            && (*msi_checked || !needs_msi)
        {
            return Ok(setup.clone());
        }
        let code = self.config().store_code.clone();
        let configs: Vec<StoreConfig> = self
            .execute(
                &Call::get("GET /V1/store/storeConfigs", "store/storeConfigs"),
                deadline,
            )
            .await
            .map_err(|e| match e {
                CommerceError::NoRoute { .. } => CommerceError::Configuration(format!(
                    "store code {code:?} is unknown to Commerce at {} (every /rest/{code}/V1 route answers \
                     \"Request does not match any route.\"); set the channel's store_code to a store view \
                     code of that store",
                    self.config().base_url
                )),
                other => other,
            })?;
        let Some(config) = configs.into_iter().find(|c| c.code == code) else {
            return Err(CommerceError::Configuration(format!(
                "store code {code:?} names no store view of Commerce at {}; set the channel's store_code \
                 to a store view code",
                self.config().base_url
            )));
        };
        if needs_msi {
            let probe = SearchCriteria::new().page_size(1).current_page(1);
            let call =
                Call::get("GET /V1/inventory/source-items", "inventory/source-items").query(probe.to_query());
            match self
                .execute::<crate::wire::SearchResults<SourceItem>>(&call, deadline)
                .await
            {
                Ok(_) => {}
                Err(CommerceError::NoRoute { .. }) => {
                    return Err(CommerceError::Configuration(
                        "Multi-Source Inventory is disabled in Commerce (GET /V1/inventory/source-items \
                         answers \"Request does not match any route.\"); enable the Magento_Inventory \
                         modules, or set the channel's stock source to legacy"
                            .to_owned(),
                    ));
                }
                Err(other) => return Err(other),
            }
        }
        let timezone = domain::StoreTimeZone::named(&config.timezone).map_err(|e| {
            CommerceError::Configuration(format!(
                "the store view's time zone (general/locale/timezone): {e}; special price dates \
                 cannot be read without it"
            ))
        })?;
        let setup = StoreSetup {
            store_code: config.code,
            timezone,
        };
        if let Ok(mut known) = self.inner.store_setup.lock() {
            *known = Some((setup.clone(), needs_msi));
        }
        tracing::info!(store_code = %setup.store_code, timezone = setup.timezone.name(), msi = needs_msi, "Commerce store set-up checked");
        Ok(setup)
    }
}
