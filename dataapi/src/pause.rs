//! Auto-pause: after an idle period the "database" pauses; the first calls then fail with
//! `DatabaseResumingException` while it resumes, as Aurora Serverless does.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::errors::ApiError;

/// How long a paused database takes to resume.
pub const RESUME_DURATION: Duration = Duration::from_secs(2);

pub(crate) struct Pause {
    after: Option<Duration>,
    state: Mutex<State>,
}

struct State {
    last_call: Instant,
    resuming_until: Option<Instant>,
}

impl Pause {
    pub(crate) fn new(after: Option<Duration>) -> Pause {
        Pause {
            after,
            state: Mutex::new(State {
                last_call: Instant::now(),
                resuming_until: None,
            }),
        }
    }

    /// Fails while the database resumes; the first call after the idle period starts the resume.
    pub(crate) fn check(&self, arn: &str) -> Result<(), ApiError> {
        let Some(after) = self.after else {
            return Ok(());
        };
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let resuming = match state.resuming_until {
            Some(until) if now < until => true,
            Some(_) => {
                state.resuming_until = None;
                false
            }
            None if now.saturating_duration_since(state.last_call) > after => {
                state.resuming_until = Some(now + RESUME_DURATION);
                true
            }
            None => false,
        };
        if resuming {
            return Err(ApiError::Resuming(format!(
                "The Aurora DB instance {arn} is resuming after being auto-paused. Please wait a few seconds and try again."
            )));
        }
        state.last_call = now;
        Ok(())
    }

    /// Records activity (calls inside a transaction keep the database awake).
    pub(crate) fn touch(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.last_call = Instant::now();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_pauses_without_a_setting() {
        let pause = Pause::new(None);
        assert!(pause.check("a").is_ok());
    }

    #[test]
    fn pauses_after_idle_then_resumes() {
        let pause = Pause::new(Some(Duration::ZERO));
        std::thread::sleep(Duration::from_millis(5));
        assert!(matches!(pause.check("a"), Err(ApiError::Resuming(_))));
        assert!(matches!(pause.check("a"), Err(ApiError::Resuming(_))));
        pause.state.lock().unwrap().resuming_until = Some(Instant::now());
        assert!(pause.check("a").is_ok());
    }
}
