//! The checks `user.create` and `user.update` share (the middleware's `common_validation`), and
//! the name, shell and sudo rules groups follow too. The simulated NAS has no file system, so
//! home directories and sudo executables are checked for their form only.

use serde_json::{Map, Value, json};

use crate::account::{AccountStore, DEFAULT_HOME, User, invalid};
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
                &format!("{schema}.{key}.{i}"),
                "ALL cannot be used with other commands",
                errno::EINVAL,
            ));
            continue;
        }
        for (i, command) in commands.iter().enumerate() {
            let executable = command.split_whitespace().next().unwrap_or_default();
            if executable != "ALL" && !executable.starts_with('/') {
                problems.push(invalid(
                    &format!("{schema}.{key}.{i}"),
                    "Executable must be an absolute path",
                    errno::EINVAL,
                ));
            }
        }
    }
    problems
}

impl AccountStore {
    /// `user.shell_choices`: the base shells, plus the TrueNAS CLI when one of the groups
    /// (database ids) holds a privilege.
    pub(crate) fn shell_choices(&self, group_ids: &[i64]) -> Value {
        let privileged = group_ids
            .iter()
            .filter_map(|id| self.groups.get(id))
            .any(|g| self.privileges.values().any(|p| p.grants(g.gid())));
        let mut out = Map::new();
        let extra = if privileged { &ADMIN_SHELLS[..] } else { &[] };
        for (path, name) in SHELLS.iter().take(1).chain(extra).chain(SHELLS.iter().skip(1)) {
            out.insert(path.to_string(), json!(name));
        }
        Value::Object(out)
    }

    /// Problems with a user's attributes, named after `schema` (`user_create`, `user_update`).
    /// `group_ids` are the database ids of the groups the user will be in.
    pub(crate) fn check_user(
        &self,
        schema: &str,
        data: &Map<String, Value>,
        old: Option<&User>,
        group_ids: &[i64],
    ) -> Vec<Invalid> {
        let mut problems = Vec::new();
        let attr = |key: &str| format!("{schema}.{key}");
        let others = || self.users.values().filter(|u| old.is_none_or(|o| o.id != u.id));
        let text = |key: &str| data.get(key).and_then(Value::as_str);
        let flag = |key: &str| data.get(key).and_then(Value::as_bool);
        if let Some(uid) = data.get("uid").and_then(Value::as_i64)
            && let Some(holder) = others().find(|u| u.uid() == uid)
        {
            let message = format!("Uid {uid} is already used (user {} has it)", holder.username());
            problems.push(invalid(&attr("uid"), message, errno::EEXIST));
        }
        if let Some(name) = text("username") {
            problems.extend(check_name(&attr("username"), name));
            if others().any(|u| u.username() == name) {
                problems.push(invalid(
                    &attr("username"),
                    format!("The username \"{name}\" already exists."),
                    errno::EEXIST,
                ));
            }
        }
        let combined = |key: &str| flag(key).or_else(|| old.map(|u| u.flag(key))).unwrap_or(false);
        if combined("smb") && combined("password_disabled") {
            let message = "Password authentication may not be disabled for SMB users.";
            problems.push(invalid(&attr("password_disabled"), message, errno::EINVAL));
        }
        let password = text("password").is_some_and(|p| !p.is_empty()) || flag("random_password") == Some(true);
        if old.is_none() && !password && flag("password_disabled") != Some(true) {
            problems.push(invalid(&attr("password"), "Password is required", errno::EINVAL));
        } else if flag("password_disabled") == Some(true) && password {
            let message = "Leave \"Password\" blank when \"Disable password login\" is checked.";
            problems.push(invalid(&attr("password_disabled"), message, errno::EINVAL));
        }
        if let Some(home) = text("home") {
            problems.extend(self.check_home(&attr("home"), home, old));
        }
        if data.get("groups").and_then(Value::as_array).is_some_and(|g| g.len() > 64) {
            problems.push(invalid(
                &attr("groups"),
                "A user cannot belong to more than 64 auxiliary groups.",
                errno::EINVAL,
            ));
        }
        if let Some(name) = text("full_name") {
            if name.contains(':') {
                problems.push(invalid(
                    &attr("full_name"),
                    "The \":\" character is not allowed in a \"Full Name\".",
                    errno::EINVAL,
                ));
            }
            if name.contains('\n') {
                let message = "The \"\\n\" character is not allowed in a \"Full Name\".";
                problems.push(invalid(&attr("full_name"), message, errno::EINVAL));
            }
        }
        if let Some(shell) = text("shell")
            && self.shell_choices(group_ids).get(shell).is_none()
        {
            problems.push(invalid(&attr("shell"), "Please select a valid shell.", errno::EINVAL));
        }
        problems.extend(check_sudo(schema, data));
        problems
    }

    fn check_home(&self, attribute: &str, home: &str, old: Option<&User>) -> Vec<Invalid> {
        let problem = |message: String, errno: i64| vec![invalid(attribute, message, errno)];
        if !home.starts_with('/') {
            return problem("\"Home Directory\" must be an absolute path.".into(), errno::EINVAL);
        }
        if home.contains(':') {
            return problem("\"Home Directory\" cannot contain colons (:).".into(), errno::EINVAL);
        }
        if home == DEFAULT_HOME || old.is_some_and(|u| u.text("home") == Some(home)) {
            return Vec::new();
        }
        if let Some(holder) =
            self.users.values().find(|u| u.text("home") == Some(home) && old.is_none_or(|o| o.id != u.id))
        {
            return problem(format!("{home}: homedir already used by {}.", holder.username()), errno::EEXIST);
        }
        if !home.starts_with("/mnt") {
            return problem(
                format!("\"Home Directory\" must begin with /mnt or set to {DEFAULT_HOME}."),
                errno::EINVAL,
            );
        }
        if home == "/mnt" || home == "/mnt/" {
            return problem("\"Home Directory\" cannot be at root of \"/mnt\"".into(), errno::EINVAL);
        }
        Vec::new()
    }
}
