//! The approvals page's HTML: the login form and the page itself, server-rendered with no
//! script. Every value that comes from a call, a person or the store passes [`escape`].

use std::fmt::Write as _;

use crate::state::approvals::{ApprovalRecord, Status};

/// How many answered, used or expired approvals the page lists.
const RECENT: usize = 50;

/// The stylesheet, served at `/approvals/style.css` (the CSP allows no inline style).
pub(super) const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem;color:#1b1b1b;background:#fafafa}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem}
.card{background:#fff;border:1px solid #ccc;border-radius:6px;padding:1rem;margin:1rem 0}
.card h3{margin:0 0 .5rem 0;font-size:1.1rem}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0 0 .75rem 0}
dt{font-weight:600}dd{margin:0;font-family:ui-monospace,monospace}
pre{background:#f3f3f3;padding:.5rem;overflow-x:auto;margin:0}
.risk-destructive{color:#a00000;font-weight:700}
.actions{display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
button{font-size:1rem;padding:.4rem 1rem;cursor:pointer}
.approve{background:#1d6b2a;color:#fff;border:0;border-radius:4px}
.deny{background:#a00000;color:#fff;border:0;border-radius:4px}
input[type=text],input[type=password]{font-size:1rem;padding:.3rem;min-width:18rem}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #ddd;padding:.3rem .5rem;text-align:left;font-size:.9rem}
.flash{background:#fff8d0;border:1px solid #d8c060;padding:.5rem 1rem;border-radius:4px}
.muted{color:#666}
";

/// Escapes text for HTML element content and quoted attribute values.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Unix seconds as `YYYY-MM-DD HH:MM:SS UTC`.
fn when(secs: u64) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second] UTC");
    i64::try_from(secs)
        .ok()
        .and_then(|s| time::OffsetDateTime::from_unix_timestamp(s).ok())
        .and_then(|t| t.format(&format).ok())
        .unwrap_or_else(|| secs.to_string())
}

/// How far `secs` is from `now`, in words.
fn relative(secs: u64, now: u64) -> String {
    let (delta, future) = if secs > now { (secs - now, true) } else { (now - secs, false) };
    let amount = if delta < 120 { format!("{delta} s") } else { format!("{} min", delta / 60) };
    if future { format!("in {amount}") } else { format!("{amount} ago") }
}

fn head(title: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{}</title><link rel=\"stylesheet\" href=\"/approvals/style.css\"></head><body>\n",
        escape(title)
    )
}

/// The login form, with an optional message (a fixed text, escaped anyway).
pub(super) fn login(message: Option<&str>) -> String {
    let mut out = head("truenas-mcp approvals: log in");
    out.push_str("<h1>truenas-mcp approvals</h1>\n");
    if let Some(message) = message {
        let _ = writeln!(out, "<p class=\"flash\" id=\"flash\">{}</p>", escape(message));
    }
    out.push_str(
        "<form method=\"post\" action=\"/approvals/login\">\
         <label for=\"token\">Admin token</label> \
         <input type=\"password\" id=\"token\" name=\"token\" autocomplete=\"off\" required> \
         <button type=\"submit\" id=\"login\">Log in</button></form>\n\
         <p class=\"muted\">The admin token is the server's <code>--admin-token</code>; an agent's token does not open this page.</p>\n\
         </body></html>\n",
    );
    out
}

/// The page: pending approvals with approve and deny forms (when `csrf` is given: a browser
/// session), then recent answers.
pub(super) fn page(records: &[ApprovalRecord], csrf: Option<&str>, flash: Option<&str>, now: u64) -> String {
    let mut out = head("truenas-mcp approvals");
    out.push_str("<h1>truenas-mcp approvals</h1>\n");
    if let Some(csrf) = csrf {
        let _ = writeln!(
            out,
            "<form method=\"post\" action=\"/approvals/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\" id=\"logout\">Log out</button></form>",
            escape(csrf)
        );
    }
    if let Some(flash) = flash {
        let _ = writeln!(out, "<p class=\"flash\" id=\"flash\">{}</p>", escape(flash));
    }
    let pending: Vec<&ApprovalRecord> = records.iter().filter(|r| r.status == Status::Pending).collect();
    let _ = writeln!(out, "<h2>Pending ({})</h2>", pending.len());
    if pending.is_empty() {
        out.push_str("<p class=\"muted\" id=\"no-pending\">Nothing waits for an answer.</p>\n");
    }
    for record in pending {
        pending_card(&mut out, record, csrf, now);
    }
    recent_table(&mut out, records);
    out.push_str("</body></html>\n");
    out
}

fn pending_card(out: &mut String, r: &ApprovalRecord, csrf: Option<&str>, now: u64) {
    let id = escape(&r.id);
    let params = serde_json::to_string_pretty(&r.call.params).unwrap_or_else(|_| r.call.params.to_string());
    let _ = write!(
        out,
        "<div class=\"card\" id=\"approval-{id}\"><h3>{action}</h3><dl>\
         <dt>id</dt><dd>{id}</dd>\
         <dt>method</dt><dd>{method}</dd>\
         <dt>risk</dt><dd class=\"risk-{risk}\">{risk}</dd>\
         <dt>rule</dt><dd>{rule}</dd>\
         <dt>grant</dt><dd>{grant}</dd>\
         <dt>policy</dt><dd>sha256:{policy}</dd>\
         <dt>created</dt><dd>{created} ({created_rel})</dd>\
         <dt>expires</dt><dd>{expires} ({expires_rel})</dd>\
         <dt>would send</dt><dd><pre>{params}</pre></dd></dl>",
        action = escape(r.call.binding.action.as_str()),
        method = escape(r.call.method.as_str()),
        risk = escape(r.call.risk.as_str()),
        rule = escape(r.call.rule.as_ref()),
        grant = escape(r.call.binding.grant.as_str()),
        policy = escape(&r.call.binding.policy_sha256),
        created = when(r.created),
        created_rel = relative(r.created, now),
        expires = when(r.expires),
        expires_rel = relative(r.expires, now),
        params = escape(&params),
    );
    if let Some(csrf) = csrf {
        let csrf = escape(csrf);
        let _ = write!(
            out,
            "<div class=\"actions\">\
             <form method=\"post\" action=\"/approvals/answer\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"id\" value=\"{id}\">\
             <input type=\"hidden\" name=\"decision\" value=\"approve\">\
             <button type=\"submit\" class=\"approve\" id=\"approve-{id}\">Approve</button></form>\
             <form method=\"post\" action=\"/approvals/answer\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\"><input type=\"hidden\" name=\"id\" value=\"{id}\">\
             <input type=\"hidden\" name=\"decision\" value=\"deny\">\
             <input type=\"text\" name=\"reason\" id=\"reason-{id}\" maxlength=\"500\" placeholder=\"reason (optional, the agent reads it)\"> \
             <button type=\"submit\" class=\"deny\" id=\"deny-{id}\">Deny</button></form></div>"
        );
    }
    out.push_str("</div>\n");
}

fn recent_table(out: &mut String, records: &[ApprovalRecord]) {
    let mut done: Vec<&ApprovalRecord> = records.iter().filter(|r| r.status != Status::Pending).collect();
    done.sort_by_key(|r| std::cmp::Reverse(r.changed.unwrap_or(r.created)));
    out.push_str("<h2>Recent decisions</h2>\n");
    if done.is_empty() {
        out.push_str("<p class=\"muted\">None yet.</p>\n");
        return;
    }
    out.push_str(
        "<table id=\"recent\"><tr><th>status</th><th>action</th><th>method</th><th>grant</th>\
         <th>by</th><th>reason</th><th>when</th><th>id</th></tr>\n",
    );
    for r in done.into_iter().take(RECENT) {
        let _ = writeln!(
            out,
            "<tr class=\"status-{status}\"><td>{status}</td><td>{action}</td><td>{method}</td><td>{grant}</td>\
             <td>{by}</td><td>{reason}</td><td>{when}</td><td>{id}</td></tr>",
            status = escape(r.status.as_str()),
            action = escape(r.call.binding.action.as_str()),
            method = escape(r.call.method.as_str()),
            grant = escape(r.call.binding.grant.as_str()),
            by = escape(r.by.as_deref().unwrap_or("-")),
            reason = escape(r.reason.as_deref().unwrap_or("")),
            when = when(r.changed.unwrap_or(r.created)),
            id = escape(&r.id),
        );
    }
    out.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_markup_character_is_escaped() {
        assert_eq!(
            escape("<script>\"a\" & 'b'</script>"),
            "&lt;script&gt;&quot;a&quot; &amp; &#39;b&#39;&lt;/script&gt;"
        );
    }

    #[test]
    fn times_read_as_utc_and_relative() {
        assert_eq!(when(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(relative(160, 100), "in 60 s");
        assert_eq!(relative(100, 700), "10 min ago");
    }
}
