//! The subscriber counts: a batch gathered in memory written in one transaction, and each
//! feed's figures per day read back.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{Db, DbError, Tx, Value};

/// Feed ids kept per feed, day and aggregator (an aggregator that polls one feed under
/// several ids of its own has a few; more is someone making them up).
pub const MAX_FEED_IDS: usize = 20;

/// Distinct pollers counted per feed, day and address (an IPv6 client: its /64): a household
/// or an office has a few readers; more is one client making up User-Agents.
pub const MAX_POLLERS_PER_ADDRESS: i64 = 16;

/// Distinct pollers counted per feed and day at most, which bounds the table's rows.
pub const MAX_POLLERS_PER_FEED: i64 = 50_000;

/// How many days of counts are kept.
pub const KEEP_DAYS: i64 = 400;

/// A day's counts to add, gathered in memory between two writes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CountBatch {
    /// (feed, day, aggregator, aggregator's feed id or "") → (the largest count announced,
    /// when it was last announced).
    pub reported: BTreeMap<(String, NaiveDate, String, String), (i64, i64)>,
    /// (feed, day, salted hash of a poller, salted hash of its address).
    pub pollers: Vec<(String, NaiveDate, String, String)>,
}

impl CountBatch {
    /// Whether there is nothing to write.
    pub fn is_empty(&self) -> bool {
        self.reported.is_empty() && self.pollers.is_empty()
    }
}

/// One feed's figures for one day, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DayCounts {
    /// The feed's URL path, e.g. `/category/ops/feed.atom`.
    pub feed: String,
    /// The day the figures are for.
    pub day: NaiveDate,
    /// Aggregator id → subscribers it announced (the day's largest per feed id, summed over
    /// its feed ids, at most the cap [`Db::counts`] is given).
    pub reported: BTreeMap<String, u64>,
    /// Distinct other pollers (address + User-Agent pairs) that day.
    pub pollers: u64,
    /// Subscriptions at the WebSub hub.
    pub websub: u64,
}

impl DayCounts {
    /// Reported + pollers + websub.
    pub fn total(&self) -> u64 {
        self.reported_sum().saturating_add(self.pollers).saturating_add(self.websub)
    }

    /// The subscribers every aggregator announced, added up.
    pub fn reported_sum(&self) -> u64 {
        self.reported.values().fold(0, |sum, n| sum.saturating_add(*n))
    }
}

impl Db {
    /// The salt of `day`'s poller hashes (made and stored on first use, so that replicas and
    /// restarts agree), and every older salt deleted: once its day is over no hash can be
    /// tied to an address again.
    pub async fn salt(&self, day: NaiveDate, fresh: &str) -> Result<String, DbError> {
        let (day, fresh) = (day.to_string(), fresh.to_owned());
        self.transaction(move |tx| {
            Box::pin(async move {
                tx.execute("DELETE FROM salts WHERE day < ?", vec![day.as_str().into()]).await?;
                tx.execute(
                    "INSERT INTO salts (day, salt) VALUES (?, ?) ON CONFLICT (day) DO NOTHING",
                    vec![day.as_str().into(), fresh.into()],
                )
                .await?;
                let rows = tx.query("SELECT salt FROM salts WHERE day = ?", vec![day.into()]).await?;
                Ok(rows.into_iter().next().and_then(|row| row.into_iter().next()).map(Value::text).unwrap_or_default())
            })
        })
        .await
    }

    /// Writes a batch of counts, then each touched day's totals: distinct pollers, and the
    /// hub's live subscriptions per feed path (`websub`, topic paths) for `today`; all in one
    /// transaction (on failure nothing of it is kept, and the caller may try it again).
    pub async fn add_counts(
        &self,
        batch: &CountBatch,
        websub: &BTreeMap<String, u64>,
        today: NaiveDate,
    ) -> Result<(), DbError> {
        // The transaction may outlive this call (on SQLite's thread), so it owns its data.
        let (batch, websub) = (batch.clone(), websub.clone());
        self.transaction(move |tx| Box::pin(async move { add_counts(tx, &batch, &websub, today).await })).await
    }

    /// Every feed's figures for the days from `first` to `last`, by feed then day; an
    /// aggregator's figure for a feed and day is at most `most` (what one aggregator
    /// plausibly has), however many feed ids it named.
    pub async fn counts(&self, first: NaiveDate, last: NaiveDate, most: u64) -> Result<Vec<DayCounts>, DbError> {
        let range = || vec![Value::from(first.to_string()), Value::from(last.to_string())];
        let mut days: BTreeMap<(String, String), DayCounts> = BTreeMap::new();
        fn entry(
            days: &mut BTreeMap<(String, String), DayCounts>,
            feed: String,
            day: String,
        ) -> Option<&mut DayCounts> {
            let date = day.parse::<NaiveDate>().ok()?;
            Some(days.entry((feed.clone(), day)).or_insert_with(|| DayCounts {
                feed,
                day: date,
                reported: BTreeMap::new(),
                pollers: 0,
                websub: 0,
            }))
        }
        for row in
            self.query("SELECT feed, day, pollers, websub FROM daily WHERE day >= ? AND day <= ?", range()).await?
        {
            let mut row = row.into_iter();
            let (feed, day) = (row.next().map(Value::text), row.next().map(Value::text));
            let (pollers, websub) = (row.next().map_or(0, |v| v.int()), row.next().map_or(0, |v| v.int()));
            if let (Some(feed), Some(day)) = (feed, day)
                && let Some(counts) = entry(&mut days, feed, day)
            {
                counts.pollers = pollers.max(0) as u64;
                counts.websub = websub.max(0) as u64;
            }
        }
        for row in self
            .query(
                "SELECT feed, day, aggregator, subscribers FROM reported_subscribers WHERE day >= ? AND day <= ?",
                range(),
            )
            .await?
        {
            let mut row = row.into_iter();
            let (feed, day, aggregator) =
                (row.next().map(Value::text), row.next().map(Value::text), row.next().map(Value::text));
            let subscribers = row.next().map_or(0, |v| v.int().max(0) as u64);
            if let (Some(feed), Some(day), Some(aggregator)) = (feed, day, aggregator)
                && let Some(counts) = entry(&mut days, feed, day)
            {
                let sum = counts.reported.entry(aggregator).or_default();
                *sum = sum.saturating_add(subscribers).min(most);
            }
        }
        Ok(days.into_values().collect())
    }
}

/// The first column of the first row of a `SELECT COUNT(*)`.
async fn count_rows(tx: &mut Tx, sql: &str, values: Vec<Value>) -> Result<i64, DbError> {
    Ok(tx.query(sql, values).await?.first().map_or(0, |row| row[0].int()))
}

/// [`Db::add_counts`] inside its transaction.
async fn add_counts(
    tx: &mut Tx,
    batch: &CountBatch,
    websub: &BTreeMap<String, u64>,
    today: NaiveDate,
) -> Result<(), DbError> {
    for ((feed, day, aggregator, feed_id), (subscribers, seen)) in &batch.reported {
        // Anyone can claim to be an aggregator with a feed id of their choosing: past
        // MAX_FEED_IDS ids for one feed, day and aggregator, new ids are not kept.
        let known = tx
            .query(
                "SELECT feed_id FROM reported_subscribers WHERE feed = ? AND day = ? AND aggregator = ?",
                vec![feed.as_str().into(), day.to_string().into(), aggregator.as_str().into()],
            )
            .await?;
        if known.len() >= MAX_FEED_IDS && !known.iter().any(|row| row[0] == Value::Text(feed_id.clone())) {
            continue;
        }
        // The day's figure is the largest announced: a later, smaller claim (anyone can
        // send one) does not replace it.
        tx.execute(
            "INSERT INTO reported_subscribers (feed, day, aggregator, feed_id, subscribers, seen_at)
             VALUES (?, ?, ?, ?, ?, ?)
             ON CONFLICT (feed, day, aggregator, feed_id) DO UPDATE
             SET subscribers = excluded.subscribers, seen_at = excluded.seen_at
             WHERE reported_subscribers.subscribers < excluded.subscribers",
            vec![
                feed.as_str().into(),
                day.to_string().into(),
                aggregator.as_str().into(),
                feed_id.as_str().into(),
                (*subscribers).into(),
                (*seen).into(),
            ],
        )
        .await?;
    }
    let mut touched: std::collections::BTreeSet<(String, NaiveDate)> = std::collections::BTreeSet::new();
    // Rows already stored per (feed, day) and per (feed, day, address), read once a batch.
    let mut per_feed: BTreeMap<(&str, NaiveDate), i64> = BTreeMap::new();
    let mut per_address: BTreeMap<(&str, NaiveDate, &str), i64> = BTreeMap::new();
    for (feed, day, poller, address) in &batch.pollers {
        touched.insert((feed.clone(), *day));
        let day_text = day.to_string();
        let stored = match per_feed.get(&(feed.as_str(), *day)) {
            Some(n) => *n,
            None => {
                count_rows(
                    tx,
                    "SELECT COUNT(*) FROM pollers WHERE feed = ? AND day = ?",
                    vec![feed.as_str().into(), day_text.as_str().into()],
                )
                .await?
            }
        };
        let from_address = match per_address.get(&(feed.as_str(), *day, address.as_str())) {
            Some(n) => *n,
            None => {
                count_rows(
                    tx,
                    "SELECT COUNT(*) FROM pollers WHERE feed = ? AND day = ? AND address = ?",
                    vec![feed.as_str().into(), day_text.as_str().into(), address.as_str().into()],
                )
                .await?
            }
        };
        if stored >= MAX_POLLERS_PER_FEED || from_address >= MAX_POLLERS_PER_ADDRESS {
            per_feed.insert((feed, *day), stored);
            per_address.insert((feed, *day, address), from_address);
            continue;
        }
        let added = tx
            .execute(
                "INSERT INTO pollers (feed, day, poller, address) VALUES (?, ?, ?, ?)
                 ON CONFLICT (feed, day, poller) DO NOTHING",
                vec![feed.as_str().into(), day_text.into(), poller.as_str().into(), address.as_str().into()],
            )
            .await? as i64;
        per_feed.insert((feed, *day), stored + added);
        per_address.insert((feed, *day, address), from_address + added);
    }
    for feed in websub.keys() {
        touched.insert((feed.clone(), today));
    }
    for (feed, day) in touched {
        let day_text = day.to_string();
        let pollers = count_rows(
            tx,
            "SELECT COUNT(*) FROM pollers WHERE feed = ? AND day = ?",
            vec![feed.as_str().into(), day_text.as_str().into()],
        )
        .await?;
        // Hub subscriptions are known for today only; a past day keeps what it had.
        let (websub, keep) = if day == today {
            (websub.get(&feed).copied().unwrap_or(0) as i64, "excluded.websub")
        } else {
            (0, "daily.websub")
        };
        let sql = format!(
            "INSERT INTO daily (feed, day, pollers, websub) VALUES (?, ?, ?, ?)
             ON CONFLICT (feed, day) DO UPDATE SET pollers = excluded.pollers, websub = {keep}"
        );
        tx.execute(&sql, vec![feed.into(), day_text.into(), pollers.into(), websub.into()]).await?;
    }
    // The poller hashes of past days are only needed as a count, which `daily` keeps.
    let yesterday = today.pred_opt().unwrap_or(today).to_string();
    tx.execute("DELETE FROM pollers WHERE day < ?", vec![yesterday.into()]).await?;
    let oldest = (today - chrono::Duration::days(KEEP_DAYS)).to_string();
    tx.execute("DELETE FROM reported_subscribers WHERE day < ?", vec![oldest.as_str().into()]).await?;
    tx.execute("DELETE FROM daily WHERE day < ?", vec![oldest.into()]).await?;
    Ok(())
}
