//! A dashboard over the fixture world, and a client that keeps cookies like a browser.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;

use dashboard::auth::Credentials;
use dashboard::fixture::{self, Seeded};
use dashboard::{ClientAddr, Dashboard, Options};
use domain::{ChannelSettings, Timestamp};
use http::{Method, Request, Response};
use operations::testkit::Sandboxes;
use ports::{Clock, ManualClock};

pub const NOW: Timestamp = Timestamp::from_millis(1_796_000_000_000);

pub struct World {
    pub dashboard: Dashboard,
    pub clock: Arc<ManualClock>,
    pub seeded: Seeded,
    pub channel: Arc<operations::Channel>,
    _sandboxes: Sandboxes,
}

pub async fn world() -> World {
    let clock = Arc::new(ManualClock::at(NOW));
    let sandboxes = Sandboxes::start_default(clock.clone()).await.unwrap();
    let settings: ChannelSettings = serde_json::from_str(r#"{"id":"main"}"#).unwrap();
    let (channel, _queues) = sandboxes.embedded_channel(settings, clock.clone() as Arc<dyn Clock>);
    let channel = Arc::new(channel);
    let seeded = fixture::seed(&channel, 60, 18, NOW).await;
    let credentials = Credentials::from_secret(&fixture::login_secret()).unwrap();
    let dashboard = Dashboard::new(
        channel.clone(),
        credentials,
        Options {
            https: true,
            page_size: 50,
            clock: clock.clone(),
        },
    );
    World {
        dashboard,
        clock,
        seeded,
        channel,
        _sandboxes: sandboxes,
    }
}

/// A browser: keeps the cookies it is given, sends them back.
pub struct Browser<'a> {
    pub world: &'a World,
    pub cookies: Vec<(String, String)>,
    pub client: String,
    pub language: Option<String>,
}

pub struct Page {
    pub status: u16,
    pub body: String,
    pub response: Response<Vec<u8>>,
}

impl Page {
    pub fn location(&self) -> Option<&str> {
        self.response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.response.headers().get(name).and_then(|v| v.to_str().ok())
    }
    /// The value of the first hidden `csrf` field.
    pub fn csrf(&self) -> String {
        let start = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a form with a CSRF token")
            + 19;
        let end = self.body[start..].find('"').unwrap();
        self.body[start..start + end].to_owned()
    }
}

impl<'a> Browser<'a> {
    pub fn new(world: &'a World) -> Self {
        Self {
            world,
            cookies: Vec::new(),
            client: "198.51.100.7".into(),
            language: None,
        }
    }

    pub async fn request(&mut self, method: Method, uri: &str, form: Option<&[(&str, &str)]>) -> Page {
        let body = form
            .map(|pairs| {
                url::form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(pairs.iter())
                    .finish()
            })
            .unwrap_or_default();
        let mut builder = Request::builder().method(method).uri(uri);
        if !self.cookies.is_empty() {
            let cookie = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            builder = builder.header("cookie", cookie);
        }
        if let Some(lang) = &self.language {
            builder = builder.header("accept-language", lang);
        }
        if form.is_some() {
            builder = builder.header("content-type", "application/x-www-form-urlencoded");
        }
        let mut request = builder.body(body.into_bytes()).unwrap();
        request.extensions_mut().insert(ClientAddr(self.client.clone()));
        let response = self.world.dashboard.handle(request).await;
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let pair = set.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            self.cookies.retain(|(name, _)| name != k);
            if !set.contains("Max-Age=0") {
                self.cookies.push((k.to_owned(), v.to_owned()));
            }
        }
        Page {
            status: response.status().as_u16(),
            body: String::from_utf8(response.body().clone()).unwrap(),
            response,
        }
    }

    pub async fn get(&mut self, uri: &str) -> Page {
        self.request(Method::GET, uri, None).await
    }

    pub async fn post(&mut self, uri: &str, form: &[(&str, &str)]) -> Page {
        self.request(Method::POST, uri, Some(form)).await
    }

    /// Loads the login page and signs in with `password`.
    pub async fn sign_in_with(&mut self, password: &str) -> Page {
        let form = self.get("/login").await;
        let token = form.csrf();
        self.post(
            "/login",
            &[("csrf", &token), ("user", fixture::USER), ("password", password)],
        )
        .await
    }

    pub async fn sign_in(&mut self) -> Page {
        let page = self.sign_in_with(fixture::PASSWORD).await;
        assert_eq!(page.status, 303, "{}", page.body);
        page
    }
}
