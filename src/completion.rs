//! Shell completion through clap_complete's dynamic completion: the script `authdemo completions
//! SHELL` prints makes the shell run `AUTHDEMO_COMPLETE=SHELL authdemo -- WORDS…` on each Tab, and
//! [`complete_if_requested`] answers with candidates. The address flags (`--allow-replace`,
//! `--allow-delete`, `--adopt`) offer the addresses of the stack file the command line names,
//! read offline as `authdemo graph` reads it: no AWS call, and no candidates (nothing printed) when
//! the file cannot be read.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use clap_complete::CompletionCandidate;
use clap_complete::env::{CompleteEnv, Shells};

use crate::command_line::DEFAULT_STACK_FILE;
use crate::resource::Address;

/// The environment variable through which the shell asks for candidates: named after the tool,
/// not clap_complete's default `COMPLETE`, so that a variable someone set for another purpose
/// never turns a normal run into a completion request.
const VAR: &str = "AUTHDEMO_COMPLETE";

/// Whether the asking shell inserts a candidate as it is written (bash), so that it must come
/// escaped, rather than quoting it itself (zsh, fish, …).
static INSERTED_VERBATIM: OnceLock<bool> = OnceLock::new();

/// Answers the shell's completion request for the command line `command` makes, and exits, when
/// `AUTHDEMO_COMPLETE` is set; otherwise returns at once, having only looked the variable up.
pub(crate) fn complete_if_requested(command: fn() -> clap::Command) {
    let Some(shell) = std::env::var_os(VAR) else { return };
    INSERTED_VERBATIM.get_or_init(|| Path::new(&shell).file_stem() == Some(OsStr::new("bash")));
    CompleteEnv::with_factory(command).var(VAR).complete();
}

/// The script that registers completion of `command` (`authdemo`) in `shell`: what
/// `AUTHDEMO_COMPLETE=SHELL authdemo` prints.
pub(crate) fn registration(shell: clap_complete::Shell, command: &clap::Command) -> std::io::Result<Vec<u8>> {
    let name = shell.to_string();
    let shells = Shells::builtins();
    let completer =
        shells.completer(&name).ok_or_else(|| std::io::Error::other(format!("no dynamic completion for {name}")))?;
    let bin = command.get_name().to_string();
    let mut script = Vec::new();
    completer.write_registration(VAR, &bin, &bin, &this_program(), &mut script)?;
    Ok(script)
}

/// The program the shell runs for candidates: this one, as it was started; made absolute when
/// started by a path (as `CompleteEnv` does), found on `PATH` when started by name.
fn this_program() -> String {
    let program = PathBuf::from(std::env::args_os().next().unwrap_or_else(|| "authdemo".into()));
    let program = match std::env::current_dir() {
        Ok(dir) if program.components().count() > 1 => dir.join(program),
        _ => program,
    };
    program.to_string_lossy().into_owned()
}

/// Candidates for `--allow-replace` and `--allow-delete`: every address of the stack file.
pub(crate) fn addresses(typed: &OsStr) -> Vec<CompletionCandidate> {
    offer(typed, |_| true)
}

/// Candidates for `--adopt`: the addresses of the kinds that can be adopted.
pub(crate) fn adoptable_addresses(typed: &OsStr) -> Vec<CompletionCandidate> {
    offer(typed, |address| address.kind.can_adopt())
}

/// The addresses `wanted` keeps of the stack file that the words being completed name.
fn offer(typed: &OsStr, wanted: fn(&Address) -> bool) -> Vec<CompletionCandidate> {
    let words: Vec<String> = std::env::args_os()
        .skip_while(|arg| arg != "--")
        .skip(1)
        .map(|arg| arg.to_string_lossy().into_owned())
        .collect();
    let named = stack_args(&words);
    let Ok((stack, _)) = crate::stack::load(&named.file, &named.vars) else { return Vec::new() };
    let desired = crate::provider::offline_desired_state(&stack);
    let addresses = desired.resources.iter().map(|resource| &resource.address).filter(|address| wanted(address));
    candidates(addresses, &typed.to_string_lossy(), INSERTED_VERBATIM.get().copied().unwrap_or(false))
}

/// The `addresses` that start with what is `typed` (as written on the command line, quotes and
/// escapes included), backslash-escaped when the shell inserts them `verbatim`, unless the word
/// is inside quotes the user opened.
fn candidates<'a>(
    addresses: impl IntoIterator<Item = &'a Address>,
    typed: &str,
    verbatim: bool,
) -> Vec<CompletionCandidate> {
    let verbatim = verbatim && !inside_quotes(typed);
    let typed = unquoted(typed);
    addresses
        .into_iter()
        .map(ToString::to_string)
        .filter(|address| address.starts_with(&typed))
        .map(|address| CompletionCandidate::new(if verbatim { escaped(&address) } else { address }))
        .collect()
}

/// A stack file and its variables, as a command line names them.
struct StackFile {
    /// The file.
    file: PathBuf,
    /// `--var NAME=VALUE`, in order.
    vars: Vec<(String, String)>,
}

/// The stack file and variables that `words` (the command line as the shell split it) name:
/// `-f FILE`, `-fFILE`, `--file FILE`, `--file=FILE`, `--var NAME=VALUE`, `--var=NAME=VALUE`.
fn stack_args(words: &[String]) -> StackFile {
    let mut file = PathBuf::from(DEFAULT_STACK_FILE);
    let mut vars = Vec::new();
    let mut words = words.iter().map(|word| unquoted(word));
    while let Some(word) = words.next() {
        let (flag, attached) = match word.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag.to_string(), Some(value.to_string())),
            _ => (word, None),
        };
        match flag.as_str() {
            "--" => break,
            "-f" | "--file" => file = attached.or_else(|| words.next()).map_or(file, |path| home_expanded(&path)),
            "--var" => {
                let var = attached.or_else(|| words.next());
                if let Some((name, value)) = var.as_deref().and_then(|var| var.split_once('=')) {
                    vars.push((name.to_string(), value.to_string()));
                }
            }
            short if short.starts_with("-f") && !short.starts_with("--") => file = home_expanded(&short[2..]),
            _ => {}
        }
    }
    StackFile { file, vars }
}

/// `path` with a leading `~/` made the home directory, as the shell would before running.
fn home_expanded(path: &str) -> PathBuf {
    match (path.strip_prefix("~/"), std::env::home_dir()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ => PathBuf::from(path),
    }
}

/// `word` as the shell hands it to the program: quotes removed, backslash escapes resolved; a
/// quote left open (in the word being typed) runs to its end.
fn unquoted(word: &str) -> String {
    let mut text = String::new();
    let mut quote = None;
    let mut chars = word.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(open), c) if c == open => quote = None,
            (None, '\\') => text.extend(chars.next()),
            (Some('"'), '\\') if chars.peek().is_some_and(|next| "$`\"\\".contains(*next)) => text.extend(chars.next()),
            _ => text.push(c),
        }
    }
    text
}

/// Whether bash handed over the word without the quote it opens: only then can it hold an
/// unescaped blank (bash gives the text after an opening quote, and the raw text otherwise).
fn inside_quotes(typed: &str) -> bool {
    let mut escaped = false;
    typed.chars().any(|c| {
        let blank = !escaped && c.is_whitespace();
        escaped = !escaped && c == '\\';
        blank
    })
}

/// `text` with a backslash before every character a shell would split or expand.
fn escaped(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if !(c.is_ascii_alphanumeric() || "-_./:=@,+%".contains(c)) {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::cli::Cli;
    use crate::resource::ResourceKind;

    fn values(candidates: &[CompletionCandidate]) -> Vec<String> {
        candidates.iter().map(|c| c.get_value().to_string_lossy().into_owned()).collect()
    }

    fn words(line: &str) -> Vec<String> {
        line.split(' ').map(str::to_string).collect()
    }

    #[test]
    fn offers_the_addresses_that_start_with_what_is_typed() {
        let addresses = [
            Address::new(ResourceKind::UserPool, "main"),
            Address::new(ResourceKind::ApiRoute, "GET /items/{id}"),
            Address::new(ResourceKind::ApiRoute, "GET /items"),
        ];
        assert_eq!(
            values(&candidates(&addresses, "", false)),
            ["user_pool.main", "api_route.GET /items/{id}", "api_route.GET /items"]
        );
        assert_eq!(values(&candidates(&addresses, "api_route.GET /items/", false)), ["api_route.GET /items/{id}"]);
        assert!(candidates(&addresses, "function.", false).is_empty());
    }

    #[test]
    fn escapes_for_bash_and_reads_what_was_typed_escaped_or_quoted() {
        let addresses =
            [Address::new(ResourceKind::ApiRoute, "GET /items/{id}"), Address::new(ResourceKind::UserPool, "main")];
        assert_eq!(values(&candidates(&addresses, "api", true)), [r"api_route.GET\ /items/\{id\}"]);
        assert_eq!(values(&candidates(&addresses, r"api_route.GET\ /i", true)), [r"api_route.GET\ /items/\{id\}"]);
        assert_eq!(values(&candidates(&addresses, "'api_route.GET /i", false)), ["api_route.GET /items/{id}"]);
        assert_eq!(values(&candidates(&addresses, "api_route.GET /", true)), ["api_route.GET /items/{id}"]);
        assert_eq!(values(&candidates(&addresses, "user_pool.main", true)), ["user_pool.main"]);
    }

    #[test]
    fn finds_the_stack_file_and_variables_however_they_are_written() {
        let args = stack_args(&words("authdemo apply -f stacks/demo.yaml --var env=pr-7 --allow-replace "));
        assert_eq!(args.file, Path::new("stacks/demo.yaml"));
        assert_eq!(args.vars, [("env".to_string(), "pr-7".to_string())]);
        let args = stack_args(&words("authdemo plan --file=a.yaml --var=x=1=2 --adopt"));
        assert_eq!((args.file, args.vars), (PathBuf::from("a.yaml"), vec![("x".to_string(), "1=2".to_string())]));
        assert_eq!(stack_args(&words("authdemo apply -fb.yaml")).file, Path::new("b.yaml"));
        assert_eq!(stack_args(&["-f".into(), "'my stack.yaml'".into()]).file, Path::new("my stack.yaml"));
        assert_eq!(stack_args(&words("authdemo apply --allow-replace")).file, Path::new(DEFAULT_STACK_FILE));
    }

    #[test]
    fn every_address_flag_completes_addresses_and_never_file_names() {
        let command = Cli::command();
        let address_flags: Vec<_> = command
            .get_subcommands()
            .flat_map(|sub| sub.get_arguments().map(move |arg| (sub.get_name(), arg)))
            .filter(|(_, arg)| arg.get_value_names().is_some_and(|names| names.iter().any(|n| n == "ADDRESS")))
            .collect();
        assert_eq!(address_flags.len(), 4, "plan --adopt; apply --allow-replace, --allow-delete, --adopt");
        for (sub, arg) in address_flags {
            assert!(arg.get::<clap_complete::ArgValueCompleter>().is_some(), "{sub} --{}", arg.get_id());
            assert_eq!(arg.get_value_hint(), clap::ValueHint::Other, "{sub} --{}", arg.get_id());
        }
    }

    #[test]
    fn unquotes_as_a_posix_shell_does() {
        assert_eq!(unquoted(r"a\ b"), "a b");
        assert_eq!(unquoted(r#""a \"b\" \c""#), r#"a "b" \c"#);
        assert_eq!(unquoted("'it'\\''s'"), "it's");
        assert_eq!(unquoted("'open"), "open");
    }
}
