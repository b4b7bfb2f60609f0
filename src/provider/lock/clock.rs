//! AWS's time, from the `Date` header of its answers: two runs on two machines compare leases
//! and releases on one clock, AWS's, never on their own (which may be minutes apart).

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_iam::config::interceptors::BeforeDeserializationInterceptorContextRef;
use aws_sdk_iam::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_iam::primitives::{DateTime, DateTimeFormat};

/// How far this machine's clock is behind AWS's, learned from the answers of the client that
/// carries it (see [`AwsClock::interceptor`]); zero until the first answer.
#[derive(Debug, Clone, Default)]
pub(crate) struct AwsClock {
    /// AWS's time minus this machine's, in milliseconds.
    offset_ms: Arc<AtomicI64>,
}

/// The uncertainty of a time read from AWS's `Date` header (whole seconds), in seconds: two
/// times from two machines are compared with twice this margin.
pub(crate) const DATE_RESOLUTION: u64 = 1;

impl AwsClock {
    /// Now on AWS's clock, in seconds since the epoch.
    pub(crate) fn now(&self) -> u64 {
        self.at(SystemTime::now())
    }

    /// `local` (a time of this machine) on AWS's clock, in seconds since the epoch.
    pub(crate) fn at(&self, local: SystemTime) -> u64 {
        let local_ms = local.duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        u64::try_from((local_ms + self.offset_ms.load(Ordering::Relaxed)) / 1000).unwrap_or_default()
    }

    /// How long from now until `aws_time` on AWS's clock (zero if it has passed).
    pub(crate) fn until(&self, aws_time: u64) -> std::time::Duration {
        std::time::Duration::from_secs(aws_time.saturating_sub(self.now()))
    }

    /// An interceptor that learns the offset from each answer's `Date` header.
    pub(crate) fn interceptor(&self) -> DateHeader {
        DateHeader(self.clone())
    }

    fn learn(&self, date: &str) {
        let Ok(aws) = DateTime::from_str(date, DateTimeFormat::HttpDate) else { return };
        let Ok(local) = SystemTime::now().duration_since(UNIX_EPOCH) else { return };
        // The header is whole seconds: the middle of that second is the best guess.
        let offset = aws.secs() * 1000 + 500 - i64::try_from(local.as_millis()).unwrap_or(i64::MAX);
        self.offset_ms.store(offset, Ordering::Relaxed);
    }
}

/// Reads the `Date` header of every answer into its [`AwsClock`].
#[derive(Debug)]
pub(crate) struct DateHeader(AwsClock);

impl Intercept for DateHeader {
    fn name(&self) -> &'static str {
        "AwsClock"
    }

    fn read_before_deserialization(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if let Some(date) = context.response().headers().get("date") {
            self.0.learn(date);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_clock_follows_aws_date_header() {
        let clock = AwsClock::default();
        let local = clock.now();
        clock.learn("Tue, 01 Dec 2026 10:00:00 GMT");
        assert_eq!(clock.now(), 1_796_119_200, "AWS's time, not this machine's ({local})");
        clock.learn("not a date");
        assert_eq!(clock.now(), 1_796_119_200, "a header it cannot read changes nothing");
        assert!(clock.until(1_796_119_230).as_secs() >= 29);
    }
}
