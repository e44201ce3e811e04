//! WhatsApp's side of delivery ([`Sender`]): `POST {API_URL}/{PHONE_NUMBER_ID}/messages`
//! with the Bearer token. Text in WhatsApp's marks, in parts of at most 4,096
//! characters; choices as reply buttons when they fit (at most 3, titles of at most 20
//! characters), else as a list (at most 10 rows, titles of at most 24, the whole label
//! in the row's description), else as numbers to reply with. The Graph API's errors
//! read as the dispatcher's [`Attempt`]s.

use super::inbound::choice_id;
use crate::channels::dispatch::{Attempt, Sender};
use crate::channels::format::{self, MAX_MESSAGE};
use crate::domain::{ChannelKind, Choice, CustomerId, Lang, Outbound};
use serde_json::{Value, json};
use std::time::Duration;

/// An interactive message's body holds at most 1,024 characters.
const INTERACTIVE_BODY: usize = 1024;

pub struct WhatsappSender {
    pub client: reqwest::Client,
    /// `{API_URL}/{PHONE_NUMBER_ID}/messages`.
    pub messages_url: String,
    pub token: String,
    /// `[whatsapp] reopen_template` and `template_language`.
    pub template: Option<(String, String)>,
}

impl Sender for WhatsappSender {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Whatsapp
    }

    fn parts(&self, out: &Outbound) -> usize {
        parts(out).len()
    }

    async fn send(&self, out: &Outbound, part: usize) -> Attempt {
        let parts = parts(out);
        let Some(text) = parts.get(part) else {
            return Attempt::Sent;
        };
        let to = out.customer.local();
        let last = part + 1 == parts.len();
        // Buttons or a list go with the last part only; choices that fit neither are
        // numbered in its text.
        let choices = if last {
            interactive(&out.choices, text)
        } else {
            None
        };
        let body = match choices {
            Some(interactive) => json!({
                "messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
                "type": "interactive", "interactive": interactive,
            }),
            None => {
                let mut text = format::to_whatsapp(text);
                if last && !out.choices.is_empty() {
                    text.push_str(&format::numbered(&out.choices));
                }
                json!({
                    "messaging_product": "whatsapp", "recipient_type": "individual", "to": to,
                    "type": "text", "text": {"preview_url": false, "body": text},
                })
            }
        };
        self.post(&body).await
    }

    async fn reopen(&self, customer: &CustomerId, _lang: Lang) -> Option<Attempt> {
        let (name, language) = self.template.as_ref()?;
        let body = json!({
            "messaging_product": "whatsapp", "recipient_type": "individual",
            "to": customer.local(), "type": "template",
            "template": {"name": name, "language": {"code": language}},
        });
        Some(self.post(&body).await)
    }
}

impl WhatsappSender {
    async fn post(&self, body: &Value) -> Attempt {
        let response = self
            .client
            .post(&self.messages_url)
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            Err(e) => {
                return Attempt::Retry {
                    after: None,
                    rate_limited: false,
                    why: format!("network: {e}"),
                };
            }
        };
        let status = response.status().as_u16();
        let after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response.text().await.unwrap_or_default();
        answer(status, after, &text)
    }

    /// Whether the token and the number work (`GET {API_URL}/{PHONE_NUMBER_ID}`): the
    /// number as WhatsApp shows it, or the attempt that says why not.
    pub async fn check(&self, number_url: &str) -> Result<String, Attempt> {
        let response = self
            .client
            .get(number_url)
            .bearer_auth(&self.token)
            .send()
            .await;
        let response = response.map_err(|e| Attempt::Retry {
            after: None,
            rate_limited: false,
            why: format!("network: {e}"),
        })?;
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        match answer(status, None, &text) {
            Attempt::Sent => {
                let number: Value = serde_json::from_str(&text).unwrap_or_default();
                let shown = number["display_phone_number"].as_str().unwrap_or_default();
                Ok(shown.to_owned())
            }
            other => Err(other),
        }
    }
}

/// The Graph API's answer as the dispatcher reads it.
pub fn answer(status: u16, after: Option<Duration>, body: &str) -> Attempt {
    if (200..300).contains(&status) {
        return Attempt::Sent;
    }
    let error: Value = serde_json::from_str(body).unwrap_or_default();
    let code = error["error"]["code"].as_i64().unwrap_or_default();
    let message = error["error"]["message"].as_str().unwrap_or("no message");
    let why = format!("HTTP {status}, code {code}: {message}");
    match code {
        // Throughput, pair rate and spam rate limits; the app's own call limits.
        130429 | 131056 | 131048 | 80007 | 4 | 17 | 32 | 613 => Attempt::Retry {
            after,
            rate_limited: true,
            why,
        },
        131047 => Attempt::NeedsTemplate,
        131026 => Attempt::Unreachable(why),
        190 => Attempt::Fatal(format!(
            "the access token was refused ({why})\n  hint: check SPORTELLO_WHATSAPP_TOKEN (a System User token of the Meta app)"
        )),
        // "Something went wrong", "service temporarily unavailable".
        1 | 2 | 131000 | 131016 => Attempt::Retry {
            after,
            rate_limited: false,
            why,
        },
        _ if status == 429 => Attempt::Retry {
            after,
            rate_limited: true,
            why,
        },
        _ if status == 401 => Attempt::Fatal(format!(
            "the access token was refused ({why})\n  hint: check SPORTELLO_WHATSAPP_TOKEN"
        )),
        _ if status >= 500 || status == 408 => Attempt::Retry {
            after,
            rate_limited: false,
            why,
        },
        _ => Attempt::GiveUp(why),
    }
}

/// The texts `out` is sent as: the last one carries the choices (an interactive body
/// holds less).
fn parts(out: &Outbound) -> Vec<String> {
    let mut parts = format::split(&out.text, MAX_MESSAGE - 96);
    if !out.choices.is_empty()
        && let Some(last) = parts.pop()
    {
        parts.extend(format::split(&last, INTERACTIVE_BODY - 24));
    }
    parts
}

/// Choices as reply buttons (at most 3, short titles) or a list (at most 10); None
/// when they fit neither.
fn interactive(choices: &[Choice], text: &str) -> Option<Value> {
    if choices.is_empty() {
        return None;
    }
    let body = json!({"text": format::to_whatsapp(text)});
    let id = |n: usize, c: &Choice| choice_id(n + 1, &c.label);
    if choices.len() <= 3 && choices.iter().all(|c| c.label.chars().count() <= 20) {
        let buttons: Vec<Value> = choices
            .iter()
            .enumerate()
            .map(|(n, c)| json!({"type": "reply", "reply": {"id": id(n, c), "title": c.label}}))
            .collect();
        return Some(json!({"type": "button", "body": body, "action": {"buttons": buttons}}));
    }
    if choices.len() > 10 {
        return None;
    }
    let rows: Vec<Value> = choices
        .iter()
        .enumerate()
        .map(|(n, c)| {
            json!({
                "id": id(n, c),
                "title": cut(&c.label, 24),
                "description": cut(&c.label, 72),
            })
        })
        .collect();
    // The list's button in the language of the message it closes (both when unsure).
    let choose = match crate::text::guess_lang(text) {
        Some(crate::domain::Lang::It) => "Scegli",
        Some(crate::domain::Lang::En) => "Choose",
        None => "Scegli / Choose",
    };
    Some(json!({
        "type": "list",
        "body": body,
        "action": {"button": choose, "sections": [{"title": choose, "rows": rows}]},
    }))
}

/// At most `max` characters, an ellipsis marking a cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let kept: String = text.chars().take(max - 1).collect();
    format!("{}…", kept.trim_end())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ChoiceTarget;

    fn choices(labels: &[&str]) -> Vec<Choice> {
        labels
            .iter()
            .map(|l| Choice {
                label: (*l).to_owned(),
                target: ChoiceTarget::Human,
            })
            .collect()
    }

    #[test]
    fn choices_are_buttons_when_they_fit_else_a_list_else_numbers() {
        let buttons = interactive(&choices(&["Sì", "No", "Una persona"]), "Intendevi?").unwrap();
        assert_eq!(buttons["type"], "button");
        assert_eq!(
            buttons["action"]["buttons"][2]["reply"]["id"],
            "Una persona"
        );
        let long = "Quanto costa la spedizione in Italia e all'estero?";
        let list = interactive(&choices(&[long, "Resi", "Parlare con una persona"]), "x").unwrap();
        assert_eq!(list["type"], "list");
        let row = &list["action"]["sections"][0]["rows"][0];
        assert_eq!(row["title"].as_str().unwrap().chars().count(), 24);
        assert!(row["title"].as_str().unwrap().ends_with('…'));
        assert_eq!(row["id"], long, "the reply reads as the whole question");
        assert_eq!(
            list["action"]["button"], "Scegli / Choose",
            "no language in `x`"
        );
        let three = choices(&[long, "Resi", "Parlare con una persona"]);
        for (text, button) in [
            (
                "Non sono sicuro di aver capito bene. Intendevi una di queste?",
                "Scegli",
            ),
            (
                "I'm not sure I got that right. Did you mean one of these?",
                "Choose",
            ),
        ] {
            let list = interactive(&three, text).unwrap();
            assert_eq!(list["action"]["button"], button, "{text}");
            assert_eq!(list["action"]["sections"][0]["title"], button, "{text}");
        }
        let nps: Vec<String> = (0..=10).map(|n| n.to_string()).collect();
        let nps: Vec<&str> = nps.iter().map(String::as_str).collect();
        assert!(
            interactive(&choices(&nps), "x").is_none(),
            "11 scores: no list"
        );
        assert_eq!(
            format::numbered(&choices(&nps)),
            "\n\n(0 · 1 · 2 · 3 · 4 · 5 · 6 · 7 · 8 · 9 · 10)"
        );
    }

    #[test]
    fn graph_errors_become_retries_templates_or_giving_up() {
        let error = |code: i64| {
            format!(
                r#"{{"error":{{"message":"m","type":"OAuthException","code":{code},"fbtrace_id":"A"}}}}"#
            )
        };
        assert_eq!(
            answer(200, None, r#"{"messages":[{"id":"wamid.1"}]}"#),
            Attempt::Sent
        );
        assert!(matches!(
            answer(400, None, &error(131047)),
            Attempt::NeedsTemplate
        ));
        assert!(matches!(
            answer(400, None, &error(131026)),
            Attempt::Unreachable(_)
        ));
        assert!(matches!(answer(401, None, &error(190)), Attempt::Fatal(_)));
        assert!(matches!(
            answer(400, Some(Duration::from_secs(3)), &error(130429)),
            Attempt::Retry {
                rate_limited: true,
                after: Some(_),
                ..
            }
        ));
        assert!(matches!(
            answer(429, None, "busy"),
            Attempt::Retry {
                rate_limited: true,
                ..
            }
        ));
        assert!(matches!(
            answer(503, None, ""),
            Attempt::Retry {
                rate_limited: false,
                ..
            }
        ));
        assert!(matches!(answer(400, None, &error(100)), Attempt::GiveUp(_)));
    }
}
