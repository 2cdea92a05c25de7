//! In-process work queues with SQS's semantics: at-least-once delivery, visibility timeout, receive
//! count and dead-lettering after the maximum receives. Journaled to disk when given a directory, so
//! a restarted local runner resumes its queued work.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use domain::Timestamp;
use ports::queue::{MAX_BATCH, check_message};
use ports::{Clock, Delivery, OutgoingMessage, QueueDepth, QueueError, QueueName, QueueSettings, WorkQueue};

use crate::journal::{Journal, JournalError};

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Message {
    id: String,
    body: String,
    receive_count: u32,
    visible_at: Timestamp,
    /// Receipt of the latest receive; older receipts are stale.
    receipt: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Lane {
    ready: VecDeque<Message>,
    dead: Vec<Message>,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Entry {
    Upsert {
        queue: QueueName,
        message: Message,
    },
    Remove {
        queue: QueueName,
        id: String,
    },
    Dead {
        queue: QueueName,
        id: String,
    },
    /// Back from the dead-letter queue, as a new message (SQS's message move task).
    Redrive {
        queue: QueueName,
        id: String,
    },
}

struct Inner {
    lanes: BTreeMap<QueueName, Lane>,
    journal: Option<Journal>,
}

impl Inner {
    fn log(&mut self, entry: &Entry) -> Result<(), QueueError> {
        match &mut self.journal {
            Some(j) => j.append(entry).map_err(|e| QueueError::Backend(e.to_string())),
            None => Ok(()),
        }
    }

    fn lane(&mut self, queue: QueueName) -> &mut Lane {
        self.lanes.entry(queue).or_default()
    }

    fn apply(&mut self, entry: Entry) {
        match entry {
            Entry::Upsert { queue, message } => {
                let lane = self.lane(queue);
                match lane.ready.iter_mut().find(|m| m.id == message.id) {
                    Some(existing) => *existing = message,
                    None => lane.ready.push_back(message),
                }
            }
            Entry::Remove { queue, id } => self.lane(queue).ready.retain(|m| m.id != id),
            Entry::Dead { queue, id } => {
                let lane = self.lane(queue);
                if let Some(pos) = lane.ready.iter().position(|m| m.id == id)
                    && let Some(m) = lane.ready.remove(pos)
                {
                    lane.dead.push(m);
                }
            }
            Entry::Redrive { queue, id } => {
                let lane = self.lane(queue);
                if let Some(pos) = lane.dead.iter().position(|m| m.id == id) {
                    let mut m = lane.dead.remove(pos);
                    m.receive_count = 0;
                    m.receipt = None;
                    m.visible_at = Timestamp::EPOCH;
                    lane.ready.push_back(m);
                }
            }
        }
    }
}

/// The channel's queues for one machine. Time (visibility, delays) follows the given clock, so a
/// scaled clock compresses timeouts as it does schedules.
pub struct EmbeddedQueues {
    inner: Mutex<Inner>,
    settings: HashMap<QueueName, QueueSettings>,
    clock: Arc<dyn Clock>,
    arrivals: Notify,
}

const JOURNAL_FILE: &str = "queues.jsonl";

impl EmbeddedQueues {
    pub fn in_memory(settings: HashMap<QueueName, QueueSettings>, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner: Mutex::new(Inner {
                lanes: BTreeMap::new(),
                journal: None,
            }),
            settings,
            clock,
            arrivals: Notify::new(),
        }
    }

    pub fn open(
        dir: &Path,
        settings: HashMap<QueueName, QueueSettings>,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, JournalError> {
        let path = dir.join(JOURNAL_FILE);
        let mut inner = Inner {
            lanes: BTreeMap::new(),
            journal: None,
        };
        for e in Journal::replay::<Entry>(&path)? {
            inner.apply(e);
        }
        let mut live = Vec::new();
        for (queue, lane) in &inner.lanes {
            for m in &lane.ready {
                live.push(Entry::Upsert {
                    queue: *queue,
                    message: m.clone(),
                });
            }
            for m in &lane.dead {
                live.push(Entry::Upsert {
                    queue: *queue,
                    message: m.clone(),
                });
                live.push(Entry::Dead {
                    queue: *queue,
                    id: m.id.clone(),
                });
            }
        }
        inner.journal = Some(Journal::compact(&path, live)?);
        Ok(Self {
            inner: Mutex::new(inner),
            settings,
            clock,
            arrivals: Notify::new(),
        })
    }

    fn settings(&self, queue: QueueName) -> Result<QueueSettings, QueueError> {
        self.settings
            .get(&queue)
            .copied()
            .ok_or(QueueError::UnknownQueue(queue))
    }

    fn lock(&self) -> Result<std::sync::MutexGuard<'_, Inner>, QueueError> {
        self.inner
            .lock()
            .map_err(|_| QueueError::Backend("embedded queue lock poisoned".into()))
    }

    /// Messages waiting or in flight, per queue (for the local runner's progress line).
    pub fn depth(&self, queue: QueueName) -> usize {
        self.lock().map_or(0, |mut g| g.lane(queue).ready.len())
    }

    /// Moves every message of the queue's dead-letter queue back to the queue, received zero times
    /// (as SQS's dead-letter queue redrive does); returns how many.
    pub fn redrive_dead_letters(&self, queue: QueueName) -> Result<usize, QueueError> {
        self.redrive_at_most(queue, usize::MAX)
    }

    /// As [`Self::redrive_dead_letters`], the oldest `max` dead letters only.
    fn redrive_at_most(&self, queue: QueueName, max: usize) -> Result<usize, QueueError> {
        self.settings(queue)?;
        let mut g = self.lock()?;
        let ids: Vec<String> = g
            .lane(queue)
            .dead
            .iter()
            .take(max)
            .map(|m| m.id.clone())
            .collect();
        for id in &ids {
            let entry = Entry::Redrive {
                queue,
                id: id.clone(),
            };
            g.log(&entry)?;
            g.apply(entry);
        }
        drop(g);
        self.arrivals.notify_waiters();
        Ok(ids.len())
    }

    fn try_receive(&self, queue: QueueName, max: usize) -> Result<Vec<Delivery>, QueueError> {
        let settings = self.settings(queue)?;
        let now = self.clock.now();
        let mut g = self.lock()?;
        let mut out = Vec::new();
        let mut entries = Vec::new();
        let lane = g.lane(queue);
        for m in lane.ready.iter_mut() {
            if out.len() == max {
                break;
            }
            if m.visible_at > now {
                continue;
            }
            if m.receive_count >= settings.max_receives {
                entries.push(Entry::Dead {
                    queue,
                    id: m.id.clone(),
                });
                continue;
            }
            m.receive_count += 1;
            m.visible_at = now.plus(settings.visibility_timeout);
            let receipt = uuid::Uuid::new_v4().to_string();
            m.receipt = Some(receipt.clone());
            out.push(Delivery {
                message_id: m.id.clone(),
                receipt,
                body: m.body.clone(),
                receive_count: m.receive_count,
            });
            entries.push(Entry::Upsert {
                queue,
                message: m.clone(),
            });
        }
        for e in entries {
            g.log(&e)?;
            if matches!(e, Entry::Dead { .. }) {
                g.apply(e);
            }
        }
        Ok(out)
    }

    fn with_receipt(
        &self,
        queue: QueueName,
        receipt: &str,
        change: impl FnOnce(&mut Message) -> Option<Entry>,
    ) -> Result<(), QueueError> {
        self.settings(queue)?;
        let mut g = self.lock()?;
        let lane = g.lane(queue);
        let Some(message) = lane
            .ready
            .iter_mut()
            .find(|m| m.receipt.as_deref() == Some(receipt))
        else {
            return Err(QueueError::StaleReceipt);
        };
        if let Some(entry) = change(message) {
            g.log(&entry)?;
            g.apply(entry);
        }
        Ok(())
    }
}

#[async_trait]
impl WorkQueue for EmbeddedQueues {
    async fn send(&self, queue: QueueName, message: OutgoingMessage) -> Result<(), QueueError> {
        self.send_all(queue, vec![message]).await
    }

    async fn send_all(&self, queue: QueueName, messages: Vec<OutgoingMessage>) -> Result<(), QueueError> {
        self.settings(queue)?;
        for m in &messages {
            check_message(m)?;
        }
        let now = self.clock.now();
        {
            let mut g = self.lock()?;
            for m in messages {
                let message = Message {
                    id: uuid::Uuid::new_v4().to_string(),
                    body: m.body,
                    receive_count: 0,
                    visible_at: now.plus(m.delay),
                    receipt: None,
                };
                let entry = Entry::Upsert { queue, message };
                g.log(&entry)?;
                g.apply(entry);
            }
        }
        self.arrivals.notify_waiters();
        Ok(())
    }

    async fn receive(
        &self,
        queue: QueueName,
        max: usize,
        wait: Duration,
    ) -> Result<Vec<Delivery>, QueueError> {
        let max = max.clamp(1, MAX_BATCH);
        let until = tokio::time::Instant::now() + wait;
        loop {
            let notified = self.arrivals.notified();
            let got = self.try_receive(queue, max)?;
            if !got.is_empty() || tokio::time::Instant::now() >= until {
                return Ok(got);
            }
            // Wake on a send, or poll again shortly for messages whose visibility timeout ends.
            let nap = until
                .saturating_duration_since(tokio::time::Instant::now())
                .min(Duration::from_millis(20));
            let _ = tokio::time::timeout(nap, notified).await;
        }
    }

    async fn delete(&self, queue: QueueName, receipt: &str) -> Result<(), QueueError> {
        match self.with_receipt(queue, receipt, |m| {
            Some(Entry::Remove {
                queue,
                id: m.id.clone(),
            })
        }) {
            // Deleting an already-deleted message succeeds in SQS too.
            Err(QueueError::StaleReceipt) => Ok(()),
            other => other,
        }
    }

    async fn change_visibility(
        &self,
        queue: QueueName,
        receipt: &str,
        timeout: Duration,
    ) -> Result<(), QueueError> {
        let visible_at = self.clock.now().plus(timeout);
        self.with_receipt(queue, receipt, |m| {
            m.visible_at = visible_at;
            Some(Entry::Upsert {
                queue,
                message: m.clone(),
            })
        })?;
        self.arrivals.notify_waiters();
        Ok(())
    }

    async fn dead_letters(&self, queue: QueueName, max: usize) -> Result<Vec<Delivery>, QueueError> {
        self.settings(queue)?;
        let mut g = self.lock()?;
        Ok(g.lane(queue)
            .dead
            .iter()
            .take(max)
            .map(|m| Delivery {
                message_id: m.id.clone(),
                receipt: String::new(),
                body: m.body.clone(),
                receive_count: m.receive_count,
            })
            .collect())
    }

    async fn depth(&self, queue: QueueName) -> Result<QueueDepth, QueueError> {
        self.settings(queue)?;
        let now = self.clock.now();
        let mut g = self.lock()?;
        let lane = g.lane(queue);
        let mut depth = QueueDepth {
            dead_letters: lane.dead.len() as u64,
            ..QueueDepth::default()
        };
        for m in &lane.ready {
            if m.visible_at <= now {
                depth.waiting += 1;
            } else if m.receipt.is_some() {
                depth.in_flight += 1;
            } else {
                depth.delayed += 1;
            }
        }
        Ok(depth)
    }

    async fn redrive(&self, queue: QueueName, max: usize) -> Result<usize, QueueError> {
        self.redrive_at_most(queue, max)
    }
}
