//! Commands to run next, written with the user's own `-f` and `--var`, so a hint can be pasted.

use std::path::Path;

/// The default stack file, which a hint need not name.
pub(crate) const DEFAULT_STACK_FILE: &str = "authdemo.yaml";

/// `authdemo COMMAND [-f FILE] [--var K=V]... EXTRA`, each value quoted for a POSIX shell where
/// it needs to be.
pub(crate) fn command_line(command: &str, file: &Path, vars: &[(String, String)], extra: &str) -> String {
    let mut line = format!("authdemo {command}");
    if file != Path::new(DEFAULT_STACK_FILE) {
        line.push_str(&format!(" -f {}", quoted(&file.display().to_string())));
    }
    for (name, value) in vars {
        line.push_str(&format!(" --var {}", quoted(&format!("{name}={value}"))));
    }
    if !extra.is_empty() {
        line.push(' ');
        line.push_str(extra);
    }
    line
}

/// `word`, single-quoted when a shell would split or expand it.
fn quoted(word: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c);
    if !word.is_empty() && word.chars().all(plain) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_the_file_and_variables_and_quotes_what_a_shell_would_split() {
        let vars = [("env".to_string(), "pr-42".to_string()), ("note".to_string(), "it's mine".to_string())];
        assert_eq!(
            command_line("plan", Path::new("stacks/demo.yaml"), &vars, "--out plan.json"),
            r"authdemo plan -f stacks/demo.yaml --var env=pr-42 --var 'note=it'\''s mine' --out plan.json"
        );
        assert_eq!(command_line("apply", Path::new(DEFAULT_STACK_FILE), &[], ""), "authdemo apply");
    }
}
