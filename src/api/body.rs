//! Request bodies: [`JsonBody`] reads a JSON body and, when it does not fit, answers 422 naming
//! the field at fault (never a guess), or 415 for a body that is not JSON.
//!
//! serde_path_to_error gives the path for plain structs. Inside an internally tagged enum
//! (our events, tagged by `action`) serde loses the path, so the body is tried again with one
//! field at a time beside the tag: the field that alone reproduces the error is the one named.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::ApiError;

/// The key that tags our event bodies (`{"action": "dispatch", …}`).
const TAG: &str = "action";

/// A JSON request body of type `T`; its rejection is an [`ApiError`] that names the field.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim_start().starts_with("application/json"));
        if !is_json {
            return Err(ApiError::status(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the body must be JSON (Content-Type: application/json)",
            ));
        }
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|e| ApiError::invalid("body", e.body_text()))?;
        let value: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::invalid("body", format!("not JSON: {e}")))?;
        parse(value).map(JsonBody)
    }
}

/// Deserialises `value` as `T`, or says which field is wrong and how.
pub fn parse<T: DeserializeOwned>(value: serde_json::Value) -> Result<T, ApiError> {
    let err = match serde_path_to_error::deserialize::<_, T>(&value) {
        Ok(t) => return Ok(t),
        Err(e) => e,
    };
    let path = err.path().to_string();
    let message = err.inner().to_string();
    let field = if !path.is_empty() && path != "." {
        path
    } else {
        named_in(&message)
            .or_else(|| culprit::<T>(&value, &message))
            .unwrap_or_else(|| "body".to_string())
    };
    Err(ApiError::invalid(field, message))
}

/// The field serde names in its message: a missing or unknown field, or the tag of an
/// unknown variant.
fn named_in(message: &str) -> Option<String> {
    for lead in ["missing field `", "unknown field `"] {
        if let Some(rest) = message.split(lead).nth(1) {
            return rest.split('`').next().map(str::to_string);
        }
    }
    (message.starts_with("unknown variant") || message.contains(&format!("`{TAG}`")))
        .then(|| TAG.to_string())
}

/// The one field of an object that, alone beside the tag, gives the same error.
fn culprit<T: DeserializeOwned>(value: &serde_json::Value, message: &str) -> Option<String> {
    let object = value.as_object()?;
    object.keys().filter(|k| *k != TAG).find_map(|key| {
        let mut one = serde_json::Map::new();
        if let Some(tag) = object.get(TAG) {
            one.insert(TAG.to_string(), tag.clone());
        }
        one.insert(key.clone(), object[key].clone());
        match serde_json::from_value::<T>(serde_json::Value::Object(one)) {
            Err(e) if e.to_string() == message => Some(key.clone()),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cases::workflow::CaseEvent;
    use serde_json::json;

    fn field_of<T: DeserializeOwned>(v: serde_json::Value) -> String {
        match parse::<T>(v) {
            Ok(_) => "ok".into(),
            Err(e) => e.field.unwrap_or_default(),
        }
    }

    #[test]
    fn the_real_field_is_named() {
        type E = CaseEvent;
        assert_eq!(
            field_of::<E>(
                json!({"action": "dispatch", "unit": "kmhb", "legal_days": 4294967296u64})
            ),
            "legal_days"
        );
        assert_eq!(
            field_of::<E>(json!({"action": "dispatch", "unit": 7})),
            "unit"
        );
        assert_eq!(field_of::<E>(json!({"action": "dispatch"})), "unit");
        assert_eq!(field_of::<E>(json!({"action": "fly"})), "action");
        assert_eq!(field_of::<E>(json!({"unit": "x"})), "action");
        assert_eq!(
            field_of::<E>(json!({"action": "return", "reason": "r", "colour": 1})),
            "colour"
        );
        assert_eq!(
            field_of::<E>(json!({"action": "callback", "reached": "yes"})),
            "reached"
        );
        assert_eq!(field_of::<E>(json!({"action": "sign"})), "ok");
    }
}
