use clap::Parser;

use super::*;

fn parse(args: &[&str]) -> Result<Config, ConfigError> {
    let mut argv = vec!["truenas-mcp"];
    argv.extend_from_slice(args);
    let low = LowArgs::try_parse_from(argv).unwrap();
    Config::from_low_args(&low.common)
}

#[test]
fn elicitation_is_on_unless_turned_off() {
    assert!(parse(&["--demo"]).unwrap().elicitation());
    assert!(!parse(&["--demo", "--no-elicitation"]).unwrap().elicitation());
    assert!(!parse(&["--demo", "--elicitation", "off"]).unwrap().elicitation());
}

#[test]
fn state_is_file_or_memory() {
    assert_eq!(parse(&["--demo"]).unwrap().state(), None);
    assert_eq!(parse(&["--demo", "--state", "memory"]).unwrap().state(), Some(&StateStore::Memory));
    assert_eq!(parse(&["--demo", "--state", "file"]).unwrap().state(), Some(&StateStore::File));
    let err = parse(&["--demo", "--state", "disk"]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "--state (TRUENAS_MCP_STATE) must be `file`, `memory` or `redis://HOST:PORT/N`, got `disk`"
    );
}

#[test]
fn state_may_be_a_redis_url_whose_password_is_never_shown() {
    let c = parse(&["--demo", "--state", "redis://:pw-in-state-url@127.0.0.1:6390/3"]).unwrap();
    let Some(StateStore::Redis(target)) = c.state() else { panic!("redis: {:?}", c.state()) };
    assert_eq!(target.shown(), "redis://127.0.0.1:6390/3");
    assert!(!format!("{:?}", c.state()).contains("pw-in-state-url"));
    for url in ["rediss://:pw-in-state-url@h:1/0", "redis://:pw-in-state-url@[::1/0"] {
        let err = parse(&["--demo", "--state", url]).unwrap_err().to_string();
        assert!(err.starts_with("--state (TRUENAS_MCP_STATE): "), "{err}");
        assert!(!err.contains("pw-in-state-url"), "{err}");
    }
}

#[test]
fn demo_needs_nothing_else() {
    let c = parse(&["--demo"]).unwrap();
    assert!(matches!(c.nas(), NasTarget::Demo));
    assert_eq!(c.transport(), &Transport::Stdio);
    assert_eq!(c.tool_mode(), ToolMode::Hierarchical);
}

#[test]
fn timeouts_are_whole_seconds_and_never_zero() {
    let c = parse(&["--demo", "--call-timeout", "3", "--connect-timeout", "2"]).unwrap();
    assert_eq!(c.call_timeout(), Some(std::time::Duration::from_secs(3)));
    assert_eq!(c.connect_timeout(), Some(std::time::Duration::from_secs(2)));
    assert_eq!(parse(&["--demo"]).unwrap().call_timeout(), None, "the client's default applies");
    let zero = parse(&["--demo", "--connect-timeout", "0"]).unwrap_err();
    assert_eq!(zero.to_string(), "--connect-timeout (TRUENAS_MCP_CONNECT_TIMEOUT) must be at least 1 second");
}

#[test]
fn a_remote_nas_needs_url_and_key() {
    assert!(matches!(parse(&["--api-key", "k"]), Err(ConfigError::MissingUrl)));
    assert!(matches!(parse(&["--url", "https://nas"]), Err(ConfigError::MissingApiKey)));
    let c = parse(&["--url", "https://nas", "--api-key", "1-abc", "--verify-ssl", "false"]).unwrap();
    let NasTarget::Remote { trust, api_key, .. } = c.nas() else { panic!("remote expected") };
    assert!(matches!(trust, TlsTrust::Off));
    assert!(!format!("{api_key:?}").contains("1-abc"), "the key never shows in Debug");
}

#[test]
fn errors_name_the_variable() {
    let e = parse(&["--url", "https://nas", "--api-key", "k", "--verify-ssl", "nope"]).unwrap_err();
    assert!(e.to_string().starts_with("TRUENAS_VERIFY_SSL"), "{e}");
    let e = parse(&["--url", "http://10.0.0.5", "--api-key", "k"]).unwrap_err();
    assert!(e.to_string().starts_with("TRUENAS_URL"), "{e}");
}

const A: &str = "token-a-0123456789";
const B: &str = "token-b-0123456789";

#[test]
fn http_off_loopback_needs_a_token() {
    assert!(matches!(parse(&["--demo", "--http", "0.0.0.0:8080"]), Err(ConfigError::OpenHttp(_))));
    let c = parse(&["--demo", "--http", "0.0.0.0:8080", "--http-token", A, "--http-token", B]).unwrap();
    assert!(matches!(c.transport(), Transport::Http { tokens, max_sessions: 64, .. } if tokens.len() == 2));
    assert!(parse(&["--demo", "--http", "127.0.0.1:0"]).is_ok());
    assert!(matches!(parse(&["--demo", "--http-token", A]), Err(ConfigError::TokensWithoutHttp)));
}

#[test]
fn the_admin_token_needs_http_length_and_no_agent_token_and_is_never_echoed() {
    let http = ["--demo", "--http", "127.0.0.1:0", "--http-token", A];
    let admin = "admin-token-0123456789";
    let ok = parse(&[&http[..], &["--admin-token", admin]].concat()).unwrap();
    assert_eq!(ok.admin_token(), Some(admin));
    assert_eq!(parse(&http).unwrap().admin_token(), None);
    assert!(matches!(parse(&["--demo", "--admin-token", admin]), Err(ConfigError::AdminWithoutHttp)));
    let e = parse(&[&http[..], &["--admin-token", "short-admin"]].concat()).unwrap_err();
    assert!(matches!(e, ConfigError::ShortAdminToken), "{e}");
    assert!(!e.to_string().contains("short-admin"), "{e}");
    let e = parse(&[&http[..], &["--http-token", B, "--admin-token", B]].concat()).unwrap_err();
    assert!(matches!(e, ConfigError::AdminIsAgentToken { position: 2 }), "{e}");
    assert!(!e.to_string().contains(B), "{e}");
}

#[test]
fn tokens_must_be_long_and_distinct_and_are_never_echoed() {
    let e = parse(&["--demo", "--http", "127.0.0.1:0", "--http-token", A, "--http-token", "short-secret"]);
    let e = e.unwrap_err();
    assert!(matches!(e, ConfigError::ShortToken { position: 2 }), "{e}");
    assert!(!e.to_string().contains("short-secret"), "{e}");
    let fifteen = "x".repeat(MIN_TOKEN_CHARS - 1);
    assert!(parse(&["--demo", "--http", "127.0.0.1:0", "--http-token", &fifteen]).is_err());
    assert!(parse(&["--demo", "--http", "127.0.0.1:0", "--http-token", &"x".repeat(MIN_TOKEN_CHARS)]).is_ok());
    let e = parse(&["--demo", "--http", "127.0.0.1:0", "--http-token", A, "--http-token", A]).unwrap_err();
    assert!(matches!(e, ConfigError::RepeatedToken { position: 2 }), "{e}");
    assert!(!e.to_string().contains(A), "{e}");
}

#[test]
fn tokens_may_come_from_a_file_one_per_line_but_not_also_inline() {
    let dir = std::env::temp_dir().join(format!("truenas-mcp-tokens-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("tokens");
    std::fs::write(&file, format!("{A}\n\n  {B}  \n")).unwrap();
    let path = file.to_str().unwrap();
    let c = parse(&["--demo", "--http", "0.0.0.0:8080", "--http-token-file", path]).unwrap();
    assert!(matches!(c.transport(), Transport::Http { tokens, .. } if tokens == &[A.to_string(), B.to_string()]));
    let both = parse(&["--demo", "--http", "0.0.0.0:8080", "--http-token-file", path, "--http-token", A]);
    assert!(matches!(both, Err(ConfigError::TwoTokenSources)));
    std::fs::write(&file, "short-secret\n").unwrap();
    let e = parse(&["--demo", "--http", "0.0.0.0:8080", "--http-token-file", path]).unwrap_err();
    assert!(matches!(e, ConfigError::ShortToken { position: 1 }), "{e}");
    assert!(!e.to_string().contains("short-secret"), "{e}");
    std::fs::write(&file, "\n").unwrap();
    let e = parse(&["--demo", "--http", "0.0.0.0:8080", "--http-token-file", path]).unwrap_err();
    assert!(matches!(e, ConfigError::EmptyToken), "{e}");
    let missing = dir.join("absent").display().to_string();
    let e = parse(&["--demo", "--http", "0.0.0.0:8080", "--http-token-file", &missing]).unwrap_err();
    assert!(matches!(e, ConfigError::TokenFile { .. }), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_session_cap_is_configurable_and_positive() {
    let c = parse(&["--demo", "--http", "127.0.0.1:0", "--http-max-sessions", "3"]).unwrap();
    assert!(matches!(c.transport(), Transport::Http { max_sessions: 3, .. }));
    assert!(matches!(
        parse(&["--demo", "--http", "127.0.0.1:0", "--http-max-sessions", "0"]),
        Err(ConfigError::ZeroSessions)
    ));
    assert!(matches!(parse(&["--demo", "--http-max-sessions", "3"]), Err(ConfigError::SessionsWithoutHttp)));
}
