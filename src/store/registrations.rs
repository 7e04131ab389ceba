//! The seats' registrations, kept across restarts: each change of a seat's bindings replaces
//! its stored set in one group-committed write, before the phone is answered 200.

use super::db::query;
use super::{Store, StoreError};
use crate::registrar::Binding;

impl Store {
    /// Replaces the stored bindings of `aor` by `bindings` (none: the seat is unregistered).
    pub async fn save_registrations(
        &self,
        aor: &str,
        bindings: Vec<Binding>,
    ) -> Result<(), StoreError> {
        let aor = aor.to_string();
        self.write(move |conn| {
            Box::pin(async move {
                query("DELETE FROM registrations WHERE aor = $1")
                    .bind(&aor)
                    .execute(&mut *conn)
                    .await?;
                for b in &bindings {
                    query(
                        "INSERT INTO registrations (aor, contact, expires_at, call_id, cseq, source, \
                         instance, reg_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(&aor)
                    .bind(&b.contact)
                    .bind(b.expires_at)
                    .bind(&b.call_id)
                    .bind(i64::from(b.cseq))
                    .bind(b.source.to_string())
                    .bind(b.instance.clone())
                    .bind(b.reg_id.map(i64::from))
                    .execute(&mut *conn)
                    .await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// Every stored binding that has not expired at `now` (Unix seconds), with its AOR.
    pub async fn live_registrations(&self, now: i64) -> Result<Vec<(String, Binding)>, StoreError> {
        let rows = query(
            "SELECT aor, contact, expires_at, call_id, cseq, source, instance, reg_id \
             FROM registrations WHERE expires_at > $1 ORDER BY aor, expires_at",
        )
        .bind(now)
        .fetch_all(self.pool())
        .await?;
        let mut out = Vec::new();
        for r in &rows {
            let source: String = r.try_get(5)?;
            let Ok(source) = source.parse() else {
                tracing::error!(%source, "stored registration with a bad source left out");
                continue;
            };
            out.push((
                r.try_get(0)?,
                Binding {
                    contact: r.try_get(1)?,
                    expires_at: r.try_get(2)?,
                    call_id: r.try_get(3)?,
                    cseq: u32::try_from(r.try_get::<i64, _>(4)?).unwrap_or(0),
                    source,
                    instance: r.try_get(6)?,
                    reg_id: r
                        .try_get::<Option<i64>, _>(7)?
                        .and_then(|id| u32::try_from(id).ok()),
                },
            ));
        }
        Ok(out)
    }
}
