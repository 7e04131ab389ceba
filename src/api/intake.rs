//! Requests from the public, without an account: the web form (`POST /api/public/codes` sends
//! an SMS code to the phone number, `POST /api/public/requests` submits the form with it), the
//! progress lookup (`GET /api/public/progress?case=&phone=`), the same form for the province's
//! own apps with their key (`POST /api/app/requests`, header `X-Api-Key`), and the official
//! account's webhook (`GET`/`POST /api/wechat`, WeChat's signed XML messages).
//!
//! Everything here is open to the internet: each input is bounded and checked, requests are
//! limited per source address and per number, a hidden field catches form robots, and the
//! progress lookup answers the same "not found" for a wrong number as for a wrong case.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha1::Digest as _;

use super::body::JsonBody;
use super::error::ApiError;
use super::state::ApiState;
use crate::cases::Category;
use crate::intake::{reference, Channel};
use crate::requests::{files, Refusal};
use crate::routing::number::{normalize_number, NumberKind};
use crate::store::requests::{NewAttachment, NewRequest};

/// The shortest and longest description taken.
pub const MIN_DESCRIPTION: usize = 5;
pub const MAX_DESCRIPTION: usize = 2000;
/// The longest place.
pub const MAX_PLACE: usize = 200;
/// The request body's limit (photos included, base64).
pub const MAX_BODY: usize = 32 * 1024 * 1024;

/// A photo, base64-encoded.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Photo {
    pub name: String,
    pub data: String,
}

/// The form.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RequestForm {
    /// The platform (division code); by default the one the phone number belongs to.
    pub platform: Option<String>,
    /// consultation, service-request, suggestion, complaint, report.
    pub category: String,
    pub description: String,
    #[serde(default)]
    pub place: String,
    pub phone: String,
    /// The SMS code (the web form; apps vouch for their users' numbers).
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub photos: Vec<Photo>,
    /// SMS notices of progress.
    #[serde(default)]
    pub notify: bool,
    /// Left empty by people; robots fill it.
    #[serde(default)]
    pub website: String,
}

/// The case number given.
#[derive(Debug, Serialize)]
pub struct Taken {
    pub case_number: String,
}

/// A code to be sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    pub phone: String,
}

fn mobile(raw: &str) -> Result<String, ApiError> {
    normalize_number(raw)
        .filter(|n| NumberKind::of(n) == NumberKind::Mobile)
        .ok_or_else(|| ApiError::invalid("phone", "需要有效的手机号码 (a mobile number)"))
}

fn refused(r: Refusal) -> ApiError {
    match r {
        Refusal::SourceLimit | Refusal::NumberLimit | Refusal::CodeLimit => {
            ApiError::status(StatusCode::TOO_MANY_REQUESTS, r.to_string())
        }
        Refusal::NoSms => ApiError::status(StatusCode::SERVICE_UNAVAILABLE, r.to_string()),
        Refusal::Code(e) => ApiError::invalid("code", e.to_string()),
    }
}

/// A platform the form offers.
#[derive(Debug, Serialize)]
pub struct PublicPlatform {
    pub code: String,
    pub name_zh: String,
}

/// `GET /api/public/platforms`: the platforms a request may be addressed to.
pub async fn platforms(State(state): State<ApiState>) -> Json<Vec<PublicPlatform>> {
    let plan = state.dialplan.current();
    Json(
        plan.router
            .platforms()
            .iter()
            .map(|p| PublicPlatform {
                code: p.code.clone(),
                name_zh: p.name_zh.clone(),
            })
            .collect(),
    )
}

/// `POST /api/public/codes`: sends a 6-digit code to the mobile number.
pub async fn send_code(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonBody(body): JsonBody<CodeRequest>,
) -> Result<StatusCode, ApiError> {
    let phone = mobile(&body.phone)?;
    state
        .intake
        .send_code(&peer.ip().to_string(), &phone, Utc::now())
        .await
        .map_err(refused)?;
    Ok(StatusCode::ACCEPTED)
}

/// What a photo is, by its first bytes (not by what the sender says).
fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.len() > 12 && &bytes[..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else {
        None
    }
}

/// A form that passed its checks, with its photos decoded.
struct Checked {
    phone: String,
    platform: String,
    category: Category,
    /// (name, content type, bytes).
    photos: Vec<(String, &'static str, Vec<u8>)>,
}

/// Checks the form and decodes its photos; nothing is stored yet.
fn check_form(state: &ApiState, form: &RequestForm) -> Result<Checked, ApiError> {
    if !form.website.is_empty() {
        return Err(ApiError::invalid(
            "website",
            "表单无效 (this field must stay empty)",
        ));
    }
    let phone = mobile(&form.phone)?;
    let category = Category::parse(&form.category).ok_or_else(|| {
        ApiError::invalid(
            "category",
            "consultation, service-request, suggestion, complaint or report",
        )
    })?;
    let description = form.description.trim();
    let len = description.chars().count();
    if !(MIN_DESCRIPTION..=MAX_DESCRIPTION).contains(&len) {
        return Err(ApiError::invalid(
            "description",
            format!("诉求内容需 {MIN_DESCRIPTION} 到 {MAX_DESCRIPTION} 字"),
        ));
    }
    if form.place.chars().count() > MAX_PLACE {
        return Err(ApiError::invalid(
            "place",
            format!("at most {MAX_PLACE} characters"),
        ));
    }
    let plan = state.dialplan.current();
    let platform = match &form.platform {
        Some(p) if !p.is_empty() => {
            plan.router
                .platform(p)
                .ok_or_else(|| ApiError::invalid("platform", format!("no platform {p}")))?;
            p.clone()
        }
        _ => plan
            .router
            .route("12345", &phone)
            .map(|d| d.platform)
            .unwrap_or_else(|_| plan.router.provincial().code.clone()),
    };
    let web = plan.channels.web;
    if form.photos.len() > web.max_photos {
        return Err(ApiError::invalid(
            "photos",
            format!("at most {} photos", web.max_photos),
        ));
    }
    let mut photos = Vec::with_capacity(form.photos.len());
    for (i, p) in form.photos.iter().enumerate() {
        if p.data.len() > web.max_photo.div_ceil(3) * 4 + 4 {
            return Err(ApiError::invalid(
                format!("photos[{i}]"),
                format!("照片不能超过 {} KB", web.max_photo / 1024),
            ));
        }
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(p.data.trim())
            .map_err(|e| ApiError::invalid(format!("photos[{i}]"), format!("not base64: {e}")))?;
        if bytes.len() > web.max_photo {
            return Err(ApiError::invalid(
                format!("photos[{i}]"),
                format!("照片不能超过 {} KB", web.max_photo / 1024),
            ));
        }
        let kind = image_type(&bytes).ok_or_else(|| {
            ApiError::invalid(format!("photos[{i}]"), "只接受 JPEG、PNG、WebP 图片")
        })?;
        photos.push((p.name.clone(), kind, bytes));
    }
    Ok(Checked {
        phone,
        platform,
        category,
        photos,
    })
}

async fn take_form(
    state: &ApiState,
    form: RequestForm,
    channel: Channel,
    checked: Checked,
    sender: String,
) -> Result<Taken, ApiError> {
    let Checked {
        phone,
        platform,
        category,
        photos,
    } = checked;
    let mut attachments: Vec<NewAttachment> = Vec::with_capacity(photos.len());
    for (name, kind, bytes) in photos {
        attachments.push(
            files::save(&state.data_dir, &name, kind, bytes)
                .await
                .map_err(ApiError::internal)?,
        );
    }
    let request = NewRequest {
        platform,
        channel,
        phone: phone.clone(),
        contact: None,
        sender,
        recipient: "12345".into(),
        subject: category.name_zh().to_string(),
        body: form.description.trim().to_string(),
        place: Some(form.place.trim().to_string()).filter(|p| !p.is_empty()),
        message_ref: None,
        at: Utc::now(),
        attachments,
        notify: form.notify,
    };
    let taken = state
        .intake
        .take(request, None)
        .await
        .map_err(ApiError::internal)?;
    Ok(Taken {
        case_number: taken.case_number,
    })
}

/// `POST /api/public/requests`: the web form, with the SMS code sent to its phone number.
pub async fn submit(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonBody(form): JsonBody<RequestForm>,
) -> Result<(StatusCode, Json<Taken>), ApiError> {
    let checked = check_form(&state, &form)?;
    let now = Utc::now();
    state
        .intake
        .admit_form(&peer.ip().to_string(), &checked.phone, now)
        .map_err(refused)?;
    state
        .intake
        .check_code(&checked.phone, &form.code, now)
        .map_err(refused)?;
    let sender = checked.phone.clone();
    let taken = take_form(&state, form, Channel::Web, checked, sender).await?;
    Ok((StatusCode::CREATED, Json(taken)))
}

/// `POST /api/app/requests`: the same form from the province's app, with its key instead of
/// a code.
pub async fn submit_app(
    State(state): State<ApiState>,
    headers: HeaderMap,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    JsonBody(form): JsonBody<RequestForm>,
) -> Result<(StatusCode, Json<Taken>), ApiError> {
    let key = headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| ApiError::status(StatusCode::UNAUTHORIZED, "X-Api-Key is required"))?;
    let hash = super::sessions::sha256_hex(key);
    let plan = state.dialplan.current();
    let app = plan
        .channels
        .apps
        .iter()
        .find(|a| a.key_sha256 == hash)
        .ok_or_else(|| ApiError::status(StatusCode::UNAUTHORIZED, "unknown API key"))?
        .name
        .clone();
    let checked = check_form(&state, &form)?;
    // Apps share addresses (their servers): the limit is per app and per number.
    state
        .intake
        .admit_form(
            &format!("app:{app}:{}", peer.ip()),
            &checked.phone,
            Utc::now(),
        )
        .map_err(refused)?;
    let taken = take_form(&state, form, Channel::App, checked, format!("app:{app}")).await?;
    Ok((StatusCode::CREATED, Json(taken)))
}

/// Query of the progress lookup.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProgressQuery {
    pub case: String,
    pub phone: String,
}

/// What the public sees of its own case.
#[derive(Debug, Serialize)]
pub struct Progress {
    pub case_number: String,
    pub platform_name: String,
    pub channel: String,
    pub state: String,
    pub state_zh: String,
    pub created_at: DateTime<Utc>,
    pub unit_name: Option<String>,
    pub dispatch_due: Option<DateTime<Utc>>,
    pub sign_due: Option<DateTime<Utc>>,
    pub handle_due: Option<DateTime<Utc>>,
    /// The answer or the unit's reply, once given.
    pub reply: Option<String>,
    pub replied_at: Option<DateTime<Utc>>,
}

/// `GET /api/public/progress?case=&phone=`: a case's state, deadlines and reply, for the
/// phone number that asked (a caller, an SMS or web requester).
pub async fn progress(
    State(state): State<ApiState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Query(q): Query<ProgressQuery>,
) -> Result<Json<Progress>, ApiError> {
    let not_found = || ApiError::not_found("未查询到该诉求，请核对编号和手机号");
    let phone = normalize_number(&q.phone).ok_or_else(not_found)?;
    let number = reference::case_number_in(&q.case).ok_or_else(not_found)?;
    state
        .intake
        .admit_lookup(&peer.ip().to_string(), Utc::now())
        .map_err(refused)?;
    let stored = state
        .store
        .load_case(&number)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(not_found)?;
    let stored = super::workflow::with_dispatch_deadline(&state, stored);
    if stored.caller.is_empty() || stored.caller != phone {
        return Err(not_found());
    }
    let plan = state.dialplan.current();
    let case = &stored.case;
    let answer = case
        .history
        .iter()
        .rev()
        .find(|h| h.event == "reply" || h.event == "answer-directly");
    let channel = state
        .store
        .requester_of(&number)
        .await
        .map_err(ApiError::internal)?
        .map_or("phone", |r| r.channel.as_str());
    Ok(Json(Progress {
        case_number: number,
        platform_name: plan.platform_name(&case.platform),
        channel: channel.to_string(),
        state: case.state.as_str().to_string(),
        state_zh: case.state.name_zh().to_string(),
        created_at: stored.created_at,
        unit_name: case.unit.as_ref().map(|u| {
            plan.units
                .iter()
                .find(|x| &x.id == u)
                .map_or(u.clone(), |x| x.name.clone())
        }),
        dispatch_due: case.deadlines.dispatch.map(|d| d.at),
        sign_due: case.deadlines.sign.map(|d| d.at),
        handle_due: case.deadlines.handle.map(|d| d.at),
        reply: answer.map(|h| h.note.clone()),
        replied_at: answer.map(|h| h.at),
    }))
}

/// The signature WeChat puts on each request: SHA-1 of token, timestamp and nonce sorted.
fn signed(token: &str, timestamp: &str, nonce: &str, signature: &str) -> bool {
    let mut parts = [token, timestamp, nonce];
    parts.sort_unstable();
    files::hex(&sha1::Sha1::digest(parts.concat().as_bytes())) == signature.to_ascii_lowercase()
}

/// The webhook's query.
#[derive(Debug, Deserialize)]
pub struct WechatQuery {
    pub signature: String,
    pub timestamp: String,
    pub nonce: String,
    pub echostr: Option<String>,
}

/// A message to the official account (the fields used).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct WechatIn {
    to_user_name: String,
    from_user_name: String,
    msg_type: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    msg_id: Option<String>,
    #[serde(default)]
    event: Option<String>,
}

/// The passive reply.
#[derive(Debug, Serialize)]
#[serde(rename = "xml", rename_all = "PascalCase")]
struct WechatOut {
    to_user_name: String,
    from_user_name: String,
    create_time: i64,
    msg_type: &'static str,
    content: String,
}

fn wechat_config(
    state: &ApiState,
    q: &WechatQuery,
) -> Result<crate::dialplan::channels::WechatSettings, ApiError> {
    let plan = state.dialplan.current();
    let wechat = plan
        .channels
        .wechat
        .clone()
        .ok_or_else(|| ApiError::not_found("no official account is configured"))?;
    if !signed(&wechat.token, &q.timestamp, &q.nonce, &q.signature) {
        return Err(ApiError::forbidden("bad signature"));
    }
    Ok(wechat)
}

/// `GET /api/wechat`: the platform's check of the server (echoes echostr when signed).
pub async fn wechat_verify(
    State(state): State<ApiState>,
    Query(q): Query<WechatQuery>,
) -> Result<String, ApiError> {
    wechat_config(&state, &q)?;
    Ok(q.echostr.unwrap_or_default())
}

/// The longest message taken from the official account.
const MAX_WECHAT_TEXT: usize = 2000;

/// `POST /api/wechat`: a message to the official account becomes a request (or joins the case
/// it names), and the reply tells the case number. WeChat sends a message again when the
/// answer is slow; the MsgId makes the second one find the first's case.
pub async fn wechat_message(
    State(state): State<ApiState>,
    Query(q): Query<WechatQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let wechat = wechat_config(&state, &q)?;
    if body.len() > 64 * 1024 {
        return Err(ApiError::invalid("body", "too large"));
    }
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::invalid("body", "not UTF-8"))?;
    let message: WechatIn = quick_xml::de::from_str(text)
        .map_err(|e| ApiError::invalid("body", format!("not a WeChat message: {e}")))?;
    let reply = |content: String| -> Result<Response, ApiError> {
        let out = WechatOut {
            to_user_name: message.from_user_name.clone(),
            from_user_name: message.to_user_name.clone(),
            create_time: Utc::now().timestamp(),
            msg_type: "text",
            content,
        };
        let xml = quick_xml::se::to_string(&out).map_err(ApiError::internal)?;
        Ok((
            [(header::CONTENT_TYPE, "application/xml; charset=utf-8")],
            xml,
        )
            .into_response())
    };
    if message.msg_type == "event" {
        return match message.event.as_deref() {
            Some("subscribe") => reply("欢迎关注12345政务服务便民热线。请直接发送文字描述您的诉求（事项、地点），我们将受理并回复诉求编号。".into()),
            _ => Ok(String::new().into_response()),
        };
    }
    if message.msg_type != "text" {
        return reply("目前只受理文字消息，请用文字描述您的诉求（事项、地点）。".into());
    }
    let content = message.content.trim();
    if content.chars().count() < MIN_DESCRIPTION || content.chars().count() > MAX_WECHAT_TEXT {
        return reply(format!(
            "请用 {MIN_DESCRIPTION} 到 {MAX_WECHAT_TEXT} 字描述您的诉求（事项、地点）。"
        ));
    }
    let reference = message.msg_id.as_ref().map(|id| format!("wechat:{id}"));
    if let Some(r) = &reference {
        if let Some(case) = state
            .store
            .case_of_message_ref(r)
            .await
            .map_err(ApiError::internal)?
        {
            return reply(format!("您的诉求已受理，编号{case}。"));
        }
    }
    let contact = format!("wechat:{}", message.from_user_name);
    if contact.len() > 100 {
        return Err(ApiError::invalid("FromUserName", "too long"));
    }
    let now = Utc::now();
    state
        .intake
        .admit_form(&contact, &contact, now)
        .map_err(refused)?;
    let request = NewRequest {
        platform: wechat.platform.clone(),
        channel: Channel::Wechat,
        phone: String::new(),
        contact: Some(contact.clone()),
        sender: contact,
        recipient: message.to_user_name.clone(),
        subject: String::new(),
        body: content.to_string(),
        place: None,
        message_ref: reference,
        at: now,
        attachments: Vec::new(),
        notify: false,
    };
    let join = reference::case_number_in(content);
    let taken = state
        .intake
        .take(request, join)
        .await
        .map_err(ApiError::internal)?;
    reply(if taken.joined {
        format!("已收到您对诉求{}的补充。", taken.case_number)
    } else {
        format!(
            "您的诉求已受理，编号{}。可在12345网站“进度查询”或拨打12345查询办理进度。",
            taken.case_number
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_sha1_of_the_sorted_parts() {
        // sha1("1234567890abcnonce" sorted: "1234567890", "abc", "nonce") computed by sha1sum.
        let sig = files::hex(&sha1::Sha1::digest(b"1234567890abcnonce"));
        assert!(signed("abc", "1234567890", "nonce", &sig));
        assert!(!signed("abd", "1234567890", "nonce", &sig));
    }

    #[test]
    fn photos_are_known_by_their_bytes() {
        assert_eq!(image_type(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(image_type(b"\x89PNG\r\n\x1a\n...."), Some("image/png"));
        assert_eq!(image_type(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(image_type(b"<script>"), None);
    }
}
