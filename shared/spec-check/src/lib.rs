//! Holds the sandboxes and clients to the official API specs: validates recorded
//! [`sandbox_kit::Exchange`]s against Walmart's OpenAPI 3.0.1 files, Walmart's feed JSON Schemas and
//! Adobe Commerce's Swagger 2.0 admin schema. Used by tests only.
//!
//! The specs are never copied into the repository: they are read at run time from [`reference_dir`]
//! (`CHANNEL_REFERENCE_DIR`, else `<workspace root>/../shared/reference`), and a missing directory is an
//! error that names the path, never a silent skip.
//!
//! # Public API
//! - [`reference_dir`] → the reference directory, or [`MissingReference`].
//! - [`OpenApi3::load_walmart`] (all Walmart files merged), [`Swagger2::load_commerce`],
//!   [`FeedSchemas::load`]; each takes the reference directory (or the specific sub-directory/file).
//!   [`walmart_spec`], [`commerce_spec`] and [`feed_schemas`] load them once per process from
//!   [`reference_dir`] and share them, which is what most tests want (the Commerce YAML takes seconds to
//!   parse in a debug build).
//! - `check(&Exchange) -> Vec<Violation>` on [`OpenApi3`] and [`Swagger2`]: the operation must exist
//!   for the method and path (templates matched segment-wise, literal segments preferred over
//!   parameters); required query parameters present; query and path values of the declared type
//!   (integer, number, boolean) and within enums; required headers present (names compared
//!   case-insensitively); the request Content-Type one the operation accepts; JSON (and form) request
//!   bodies valid against the request schema; the response body valid against the schema described for
//!   its status (Commerce falls back to `default`, i.e. `error-response`).
//! - `report(&[Exchange]) -> Report` on both: checks all exchanges except fault-injected ones and
//!   records which `(METHOD, template)` operations were exercised, for coverage assertions
//!   ([`Report::uncovered`]). [`OpenApi3::report_with_feeds`] adds the feed-file checks.
//! - [`FeedSchemas::check`]`(feed_type, &payload) -> Vec<String>` for `MP_ITEM_MATCH`, `inventory`,
//!   `price` (plus Walmart's published 10,000-item / 10 MB limits for item and price feeds);
//!   [`FeedSchemas::check_exchange`] does it for a recorded `POST /v3/feeds` upload.
//!
//! Every problem text says where (a JSON pointer, or the parameter/header name) and what.
//!
//! Outside tests: save `GET /_sandbox/exchanges` of a running sandbox and run
//! `cargo run -p spec-check --example check_exchanges -- walmart|commerce exchanges.json`.
//!
//! # Spec quirks worked around
//! - Walmart files lack `info.version` and have a malformed `securitySchemes.basicScheme`: neither is
//!   read; operations declare their headers as parameters and those are what is checked.
//! - Every Walmart operation declares `Authorization` as a required header next to `WM_SEC.ACCESS_TOKEN`,
//!   `WM_SVC.NAME` and `WM_QOS.CORRELATION_ID`; all are enforced as declared (Walmart's samples send
//!   Basic credentials with the token). `POST /v3/token` additionally must use `Authorization: Basic`.
//! - `POST /v3/feeds` is declared in items, inventory, price and returns with different `feedType`
//!   enums: the variants are all kept and an exchange passes if it satisfies any of them (problems name
//!   the closest variant). returns.json gives `feedType` only a default (`RETURNS_OVERRIDES`), treated
//!   as its only allowed value so that variant does not accept every feed type.
//! - Walmart describes only successful responses (mostly 200): other statuses are not checked. Several
//!   operations describe only `application/xml` for a status: JSON bodies there are not checked.
//! - OpenAPI 3.0 `nullable: true` becomes a JSON Schema type array with `"null"`; documentation-only
//!   keywords (`xml`, `example`, ...) are dropped; `$ref`s to `#/components/schemas/` are rewritten to
//!   `#/definitions/`. Walmart schemas are checked as draft 7, Commerce as draft 4, with `format`
//!   checked where the validator knows the format (`date-time`, ...).
//! - Commerce: the schema's basePath is `/rest/default`; requests to `/rest/<store>/V1/...`,
//!   `/rest/all/V1/...` and `/rest/V1/...` are checked as `/V1/...`. The same resource can use different
//!   placeholder names per method (`{cartId}` vs `{quoteId}`): templates match by shape. Query keys are
//!   compared the way Magento reads them: any array index (`[3]` ≙ the schema's `[0]`), snake_case or
//!   camelCase, array parameters as `name[]`/`name[N]`; booleans accept `1`/`0`. Unknown
//!   `searchCriteria[...]` keys are violations (Magento ignores them silently; a lost `pageSize` returns
//!   the whole catalog). The schema's `api_key` security definition is meaningless and not checked.
//! - Commerce `framework-attribute-interface.value` (custom attributes) is typed string, but Magento
//!   returns arrays of strings for multi-valued attributes such as `category_ids`: both are accepted.
//! - Commerce `error-parameters` is typed as an array of objects, but Magento sends positional
//!   parameters as an array of strings and named ones as an object: both are accepted.
//! - Feed schemas: `InventoryFeed`/`PriceFeed` reference sibling files by relative `$ref`
//!   (`"Inventory.json"`); they are bundled into one document. MP_ITEM_MATCH_v4 repeats `$schema` in
//!   subschemas; only the root's is kept. There is no schema for `MP_INVENTORY` (spec 1.5), so that feed
//!   type is reported as unknown rather than passed.

mod commerce;
mod feeds;
mod index;
mod operation;
mod schema;
mod walmart;

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

pub use commerce::{COMMERCE_SCHEMA_FILE, Swagger2, strip_store_code};
pub use feeds::{FEED_SCHEMA_FILES, FeedSchemas, MAX_FEED_BYTES, MAX_FEED_ITEMS};
pub use walmart::{OpenApi3, WALMART_SPEC_FILES};

/// Environment variable naming the reference directory.
pub const REFERENCE_DIR_ENV: &str = "CHANNEL_REFERENCE_DIR";

/// The reference directory (holding `walmart-openapi/` and `commerce-webapi/`) is not where it should be.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "reference material not found at {path} ({origin}). Set {REFERENCE_DIR_ENV} to the directory holding \
     walmart-openapi/ and commerce-webapi/ (by default <workspace root>/../shared/reference)"
)]
pub struct MissingReference {
    pub path: PathBuf,
    /// How the path was chosen, e.g. "from CHANNEL_REFERENCE_DIR".
    pub origin: String,
}

/// A spec could not be loaded.
#[derive(Clone, Debug, thiserror::Error)]
pub enum SpecError {
    #[error(transparent)]
    MissingReference(#[from] MissingReference),
    #[error("cannot read spec file {path}: {message}")]
    Read { path: PathBuf, message: String },
    #[error("cannot parse spec file {path}: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("unexpected shape in spec file {path} at {pointer}: {message}")]
    Shape {
        path: PathBuf,
        pointer: String,
        message: String,
    },
}

/// One way an exchange departs from the spec.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub seq: u64,
    pub method: String,
    pub path: String,
    pub what: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {} {}: {}", self.seq, self.method, self.path, self.what)
    }
}

/// The outcome of checking many exchanges.
#[derive(Clone, Debug, Default)]
pub struct Report {
    pub violations: Vec<Violation>,
    /// `(METHOD, template)` of every operation at least one checked exchange matched.
    pub covered: BTreeSet<(String, String)>,
    /// `"METHOD path"` of exchanges that matched no operation (each also has a violation).
    pub unmatched: Vec<String>,
    /// Exchanges checked.
    pub checked: usize,
    /// Exchanges skipped because a fault was injected into them.
    pub skipped_faulted: usize,
}

impl Report {
    pub fn is_clean(&self) -> bool {
        self.violations.is_empty()
    }

    /// Which of the `expected` `(METHOD, template)` operations no checked exchange exercised.
    pub fn uncovered<'a>(
        &self,
        expected: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Vec<(String, String)> {
        expected
            .into_iter()
            .map(|(method, template)| (method.to_owned(), template.to_owned()))
            .filter(|operation| !self.covered.contains(operation))
            .collect()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} exchanges checked ({} fault-injected skipped), {} operations covered, {} violations",
            self.checked,
            self.skipped_faulted,
            self.covered.len(),
            self.violations.len()
        )?;
        for violation in &self.violations {
            writeln!(f, "  {violation}")?;
        }
        Ok(())
    }
}

/// The reference directory: `CHANNEL_REFERENCE_DIR` if set, else `<workspace root>/../shared/reference`,
/// the workspace root being the nearest directory above `CARGO_MANIFEST_DIR` whose Cargo.toml has a
/// `[workspace]` table. It must exist.
pub fn reference_dir() -> Result<PathBuf, MissingReference> {
    let configured = std::env::var_os(REFERENCE_DIR_ENV)
        .filter(|value| !value.is_empty())
        .map(PathBuf::from);
    // The crate under test's manifest dir at run time (set by cargo), else this crate's at build time.
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    resolve_reference_dir(configured.as_deref(), &manifest_dir)
}

/// [`reference_dir`] without the environment: `configured` is the value of `CHANNEL_REFERENCE_DIR`.
pub fn resolve_reference_dir(
    configured: Option<&Path>,
    manifest_dir: &Path,
) -> Result<PathBuf, MissingReference> {
    if let Some(path) = configured {
        return if path.is_dir() {
            Ok(path.to_path_buf())
        } else {
            Err(MissingReference {
                path: path.to_path_buf(),
                origin: format!("from {REFERENCE_DIR_ENV}"),
            })
        };
    }
    let Some(workspace_root) = workspace_root(manifest_dir) else {
        return Err(MissingReference {
            path: manifest_dir.join("../shared/reference"),
            origin: format!("no Cargo.toml with [workspace] above {}", manifest_dir.display()),
        });
    };
    let path = workspace_root.join("..").join("shared").join("reference");
    if path.is_dir() {
        Ok(path)
    } else {
        Err(MissingReference {
            path,
            origin: format!("{REFERENCE_DIR_ENV} unset; workspace default"),
        })
    }
}

fn workspace_root(start: &Path) -> Option<PathBuf> {
    start.ancestors().find_map(|dir| {
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).ok()?;
        manifest
            .lines()
            .any(|line| line.trim() == "[workspace]")
            .then(|| dir.to_path_buf())
    })
}

/// Walmart's specs from [`reference_dir`], loaded once per process.
pub fn walmart_spec() -> Result<&'static OpenApi3, SpecError> {
    static SPEC: OnceLock<Result<OpenApi3, SpecError>> = OnceLock::new();
    SPEC.get_or_init(|| OpenApi3::load_walmart(&reference_dir()?))
        .as_ref()
        .map_err(Clone::clone)
}

/// Commerce's schema from [`reference_dir`], loaded once per process.
pub fn commerce_spec() -> Result<&'static Swagger2, SpecError> {
    static SPEC: OnceLock<Result<Swagger2, SpecError>> = OnceLock::new();
    SPEC.get_or_init(|| Swagger2::load_commerce(&reference_dir()?))
        .as_ref()
        .map_err(Clone::clone)
}

/// Walmart's feed schemas from [`reference_dir`], loaded once per process.
pub fn feed_schemas() -> Result<&'static FeedSchemas, SpecError> {
    static SCHEMAS: OnceLock<Result<FeedSchemas, SpecError>> = OnceLock::new();
    SCHEMAS
        .get_or_init(|| FeedSchemas::load(&reference_dir()?))
        .as_ref()
        .map_err(Clone::clone)
}

pub(crate) fn read_json(path: &Path) -> Result<serde_json::Value, SpecError> {
    let text = std::fs::read_to_string(path).map_err(|error| SpecError::Read {
        path: path.to_path_buf(),
        message: error.to_string(),
    })?;
    serde_json::from_str(&text).map_err(|error| SpecError::Parse {
        path: path.to_path_buf(),
        message: error.to_string(),
    })
}
