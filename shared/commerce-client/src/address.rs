//! Walmart ship-to addresses as Commerce quote addresses.
//!
//! Quote addresses need a `region_id`: Magento's directory data gives the US states fixed ids (the
//! same on every install, from the Directory module's data patch). Other countries are sent with
//! the region as text and `region_id` 0, which Magento accepts for countries without required states.

use domain::ShipTo;

use crate::error::CommerceError;
use crate::wire::CartAddress;

/// (code, name, Magento region_id) of the US regions in Magento's directory.
const US_REGIONS: &[(&str, &str, u64)] = &[
    ("AL", "Alabama", 1),
    ("AK", "Alaska", 2),
    ("AS", "American Samoa", 3),
    ("AZ", "Arizona", 4),
    ("AR", "Arkansas", 5),
    ("AE", "Armed Forces Africa", 6),
    ("AA", "Armed Forces Americas", 7),
    ("AP", "Armed Forces Pacific", 11),
    ("CA", "California", 12),
    ("CO", "Colorado", 13),
    ("CT", "Connecticut", 14),
    ("DE", "Delaware", 15),
    ("DC", "District of Columbia", 16),
    ("FM", "Federated States Of Micronesia", 17),
    ("FL", "Florida", 18),
    ("GA", "Georgia", 19),
    ("GU", "Guam", 20),
    ("HI", "Hawaii", 21),
    ("ID", "Idaho", 22),
    ("IL", "Illinois", 23),
    ("IN", "Indiana", 24),
    ("IA", "Iowa", 25),
    ("KS", "Kansas", 26),
    ("KY", "Kentucky", 27),
    ("LA", "Louisiana", 28),
    ("ME", "Maine", 29),
    ("MH", "Marshall Islands", 30),
    ("MD", "Maryland", 31),
    ("MA", "Massachusetts", 32),
    ("MI", "Michigan", 33),
    ("MN", "Minnesota", 34),
    ("MS", "Mississippi", 35),
    ("MO", "Missouri", 36),
    ("MT", "Montana", 37),
    ("NE", "Nebraska", 38),
    ("NV", "Nevada", 39),
    ("NH", "New Hampshire", 40),
    ("NJ", "New Jersey", 41),
    ("NM", "New Mexico", 42),
    ("NY", "New York", 43),
    ("NC", "North Carolina", 44),
    ("ND", "North Dakota", 45),
    ("MP", "Northern Mariana Islands", 46),
    ("OH", "Ohio", 47),
    ("OK", "Oklahoma", 48),
    ("OR", "Oregon", 49),
    ("PW", "Palau", 50),
    ("PA", "Pennsylvania", 51),
    ("PR", "Puerto Rico", 52),
    ("RI", "Rhode Island", 53),
    ("SC", "South Carolina", 54),
    ("SD", "South Dakota", 55),
    ("TN", "Tennessee", 56),
    ("TX", "Texas", 57),
    ("UT", "Utah", 58),
    ("VT", "Vermont", 59),
    ("VI", "Virgin Islands", 60),
    ("VA", "Virginia", 61),
    ("WA", "Washington", 62),
    ("WV", "West Virginia", 63),
    ("WI", "Wisconsin", 64),
    ("WY", "Wyoming", 65),
];

/// The Magento region (code, name, id) of a US state code.
pub fn us_region(code: &str) -> Option<(&'static str, &'static str, u64)> {
    US_REGIONS
        .iter()
        .copied()
        .find(|(c, _, _)| c.eq_ignore_ascii_case(code.trim()))
}

/// ISO 3166-1 alpha-2 for the country spellings Walmart uses.
pub fn country_id(raw: &str) -> Option<String> {
    let upper = raw.trim().to_ascii_uppercase();
    match upper.as_str() {
        "USA" | "US" | "UNITED STATES" | "UNITED STATES OF AMERICA" => Some("US".to_owned()),
        two if two.len() == 2 && two.bytes().all(|b| b.is_ascii_alphabetic()) => Some(two.to_owned()),
        _ => None,
    }
}

/// Splits a full name into Magento's first and last names. Both are required, so a single word
/// becomes the last name with a dot as the first name.
pub fn split_name(full: &str) -> (String, String) {
    let trimmed = full.trim();
    match trimmed.rsplit_once(char::is_whitespace) {
        Some((first, last)) if !first.trim().is_empty() => (first.trim().to_owned(), last.to_owned()),
        _ if trimmed.is_empty() => (".".to_owned(), ".".to_owned()),
        _ => (".".to_owned(), trimmed.to_owned()),
    }
}

/// The quote address for a Walmart ship-to. `email` is the address email Magento copies to a
/// guest order (the buyer's Walmart relay address).
pub fn cart_address(ship_to: &ShipTo, email: &str) -> Result<CartAddress, CommerceError> {
    let country = country_id(&ship_to.country)
        .ok_or_else(|| CommerceError::Input(format!("unknown ship-to country {:?}", ship_to.country)))?;
    let (region_code, region, region_id) = match (country.as_str(), us_region(&ship_to.state)) {
        ("US", Some((code, name, id))) => (code.to_owned(), name.to_owned(), id),
        ("US", None) => {
            return Err(CommerceError::Input(
                "ship-to state is not a US state code".to_owned(),
            ));
        }
        _ => (ship_to.state.clone(), ship_to.state.clone(), 0),
    };
    let (firstname, lastname) = split_name(&ship_to.name);
    let mut street = vec![ship_to.address1.clone()];
    if let Some(line2) = ship_to.address2.as_ref().filter(|l| !l.trim().is_empty()) {
        street.push(line2.clone());
    }
    Ok(CartAddress {
        region,
        region_id,
        region_code,
        country_id: country,
        street,
        // Magento requires a telephone; Walmart sometimes sends none.
        telephone: ship_to
            .phone
            .clone()
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| "0000000000".to_owned()),
        postcode: ship_to.postal_code.clone(),
        city: ship_to.city.clone(),
        firstname,
        lastname,
        email: email.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_countries_and_regions() {
        assert_eq!(split_name("Jane Q Doe"), ("Jane Q".into(), "Doe".into()));
        assert_eq!(split_name("Cher"), (".".into(), "Cher".into()));
        assert_eq!(country_id("USA").as_deref(), Some("US"));
        assert_eq!(country_id("ca").as_deref(), Some("CA"));
        assert_eq!(country_id("Narnia"), None);
        assert_eq!(us_region("ar"), Some(("AR", "Arkansas", 5)));
        assert_eq!(us_region("TX").map(|r| r.2), Some(57));
        assert_eq!(us_region("ZZ"), None);
    }

    #[test]
    fn builds_a_complete_quote_address() {
        let ship_to = ShipTo {
            name: "Jane Doe".into(),
            address1: "1 Main St".into(),
            address2: Some("Apt 2".into()),
            city: "Bentonville".into(),
            state: "AR".into(),
            postal_code: "72712".into(),
            country: "USA".into(),
            phone: None,
            email: None,
        };
        let address = cart_address(&ship_to, "relay@relay.walmart.com").unwrap();
        assert_eq!(address.region_id, 5);
        assert_eq!(address.street, vec!["1 Main St".to_owned(), "Apt 2".to_owned()]);
        assert_eq!(address.telephone, "0000000000");
        assert_eq!(address.country_id, "US");
        let bad = ShipTo {
            state: "XX".into(),
            ..ship_to
        };
        assert!(cart_address(&bad, "a@b.c").is_err());
    }
}
