//! The rules users and groups both follow: names (`pw_checkname`), login shells and sudo
//! commands. The simulated NAS has no file system, so sudo executables are checked for their
//! form only. The checks that read other accounts are with the collection they read
//! (`Users::check`, `Groups::check`).

use serde_json::{Map, Value, json};

use crate::account::basics::invalid;
use crate::failure::{Invalid, errno};

/// Login shells of the base system, as `/etc/shells` lists them under `/usr/bin`.
const SHELLS: [(&str, &str); 7] = [
    ("/usr/sbin/nologin", "nologin"),
    ("/usr/bin/bash", "bash"),
    ("/usr/bin/rbash", "rbash"),
    ("/usr/bin/dash", "dash"),
    ("/usr/bin/sh", "sh"),
    ("/usr/bin/zsh", "zsh"),
    ("/usr/bin/tmux", "tmux"),
];

/// Shells offered to members of a group holding a privilege.
const ADMIN_SHELLS: [(&str, &str); 2] = [("/usr/bin/cli", "TrueNAS CLI"), ("/usr/bin/cli_console", "TrueNAS Console")];

/// Characters a user or group name may not hold.
const INVALID_NAME_CHARS: &str = " ,\t:+&#%^()!@~*?<>=|\\/\"";

/// The middleware's `pw_checkname`.
pub(crate) fn check_name(attribute: &str, name: &str) -> Vec<Invalid> {
    let mut problems = Vec::new();
    if name.starts_with('-') {
        problems.push(invalid(
            attribute,
            "Name must begin with an alphanumeric character and not a \"-\".",
            errno::EINVAL,
        ));
    }
    if name.find('$').is_some_and(|i| i + 1 != name.len()) {
        problems.push(invalid(attribute, "The character $ is only allowed as the final character.", errno::EINVAL));
    }
    let mut bad: Vec<char> = Vec::new();
    for c in name.chars().filter(|c| INVALID_NAME_CHARS.contains(*c) || !c.is_ascii()) {
        if !bad.contains(&c) {
            bad.push(c);
        }
    }
    if !bad.is_empty() {
        let list: Vec<String> = bad.iter().map(char::to_string).collect();
        problems.push(invalid(
            attribute,
            format!("name contains invalid characters: {}", list.join(", ")),
            errno::EINVAL,
        ));
    }
    problems
}

/// `sudo_commands` and `sudo_commands_nopasswd`: `ALL` alone, or absolute executables.
pub(crate) fn check_sudo(schema: &str, data: &Map<String, Value>) -> Vec<Invalid> {
    let mut problems = Vec::new();
    for key in ["sudo_commands", "sudo_commands_nopasswd"] {
        let Some(commands) = data.get(key).and_then(Value::as_array) else { continue };
        let commands: Vec<&str> = commands.iter().filter_map(Value::as_str).collect();
        if let Some(i) = commands.iter().position(|c| *c == "ALL")
            && commands.len() != 1
        {
            problems.push(invalid(
                format!("{schema}.{key}.{i}"),
                "ALL cannot be used with other commands",
                errno::EINVAL,
            ));
            continue;
        }
        for (i, command) in commands.iter().enumerate() {
            let executable = command.split_whitespace().next().unwrap_or_default();
            if executable != "ALL" && !executable.starts_with('/') {
                problems.push(invalid(
                    format!("{schema}.{key}.{i}"),
                    "Executable must be an absolute path",
                    errno::EINVAL,
                ));
            }
        }
    }
    problems
}

/// `user.shell_choices`: the base shells, plus the TrueNAS CLI for members of a group that holds
/// a privilege (`privileged`).
pub(crate) fn shell_choices(privileged: bool) -> Value {
    let mut out = Map::new();
    let extra = if privileged { &ADMIN_SHELLS[..] } else { &[] };
    for (path, name) in SHELLS.iter().take(1).chain(extra).chain(SHELLS.iter().skip(1)) {
        out.insert(path.to_string(), json!(name));
    }
    Value::Object(out)
}
