//! The clock port: operations ask it for "now" so tests and the local runner can control time.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use domain::Timestamp;

/// A boxed future, for trait methods that must stay object safe.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;

    /// Waits `d` of this clock's time. Every wait in clients and sandboxes goes through here, so a
    /// scaled clock compresses waits too and a manual clock skips them.
    fn sleep(&self, d: Duration) -> BoxFuture<'_, ()>;

    /// How much of this clock's time passes during `wall` of real time. Deadlines are real time
    /// (a Lambda's remaining time); anything stored in this clock's time, such as an idempotency
    /// lease, must be converted through here.
    fn elapsed_during(&self, wall: Duration) -> Duration {
        wall
    }
}

/// Wall-clock time.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        let ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis());
        Timestamp::from_millis(i64::try_from(ms).unwrap_or(i64::MAX))
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(d))
    }
}

/// A clock tests move by hand.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn at(t: Timestamp) -> Self {
        Self(AtomicI64::new(t.millis()))
    }

    pub fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        self.0.fetch_add(ms, Ordering::SeqCst);
    }

    pub fn set(&self, t: Timestamp) {
        self.0.store(t.millis(), Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        Timestamp::from_millis(self.0.load(Ordering::SeqCst))
    }

    /// Moves time forward instead of waiting.
    fn sleep(&self, d: Duration) -> BoxFuture<'_, ()> {
        self.advance(d);
        Box::pin(std::future::ready(()))
    }
}

/// Scenario time that runs `scale` times faster than the wall clock from a chosen start, for the
/// local runner's compressed days.
#[derive(Debug)]
pub struct ScaledClock {
    start_wall: std::time::Instant,
    start: Timestamp,
    scale: Mutex<f64>,
}

impl ScaledClock {
    pub fn new(start: Timestamp, scale: f64) -> Self {
        Self {
            start_wall: std::time::Instant::now(),
            start,
            scale: Mutex::new(scale.max(1.0)),
        }
    }

    pub fn scale(&self) -> f64 {
        self.scale.lock().map_or(1.0, |s| *s)
    }

    /// Wall-clock duration that corresponds to `scenario` time.
    pub fn to_wall(&self, scenario: Duration) -> Duration {
        scenario.div_f64(self.scale())
    }
}

impl Clock for ScaledClock {
    fn now(&self) -> Timestamp {
        let elapsed = self.start_wall.elapsed().mul_f64(self.scale());
        self.start.plus(elapsed)
    }

    fn sleep(&self, d: Duration) -> BoxFuture<'_, ()> {
        Box::pin(tokio::time::sleep(self.to_wall(d)))
    }

    fn elapsed_during(&self, wall: Duration) -> Duration {
        wall.mul_f64(self.scale())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn manual_clock_sleep_advances_time() {
        let c = ManualClock::at(Timestamp::from_millis(0));
        c.sleep(Duration::from_secs(60)).await;
        assert_eq!(c.now(), Timestamp::from_millis(60_000));
    }

    #[test]
    fn manual_and_scaled_clocks() {
        let c = ManualClock::at(Timestamp::from_millis(10));
        c.advance(Duration::from_millis(5));
        assert_eq!(c.now(), Timestamp::from_millis(15));
        let s = ScaledClock::new(Timestamp::from_millis(0), 1440.0);
        assert_eq!(s.to_wall(Duration::from_secs(1440)), Duration::from_secs(1));
        assert_eq!(
            s.elapsed_during(Duration::from_secs(1)),
            Duration::from_secs(1440)
        );
        assert_eq!(
            SystemClock.elapsed_during(Duration::from_secs(3)),
            Duration::from_secs(3)
        );
        assert!(SystemClock.now() > Timestamp::from_millis(1_700_000_000_000));
    }
}
