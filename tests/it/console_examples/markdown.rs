//! The fenced code blocks of a markdown file, and the commands of a
//! ```console block: `$ command` lines, each followed by the output it
//! shows.
//!
//! A command's shell comment may say what its exit status is
//! (`$ curl -sS http://127.0.0.1:9000/   # exit 56`); without one, it must
//! exit 0. A command that ends in `&` runs in the background until the
//! block ends or a `$ kill %N` stops it.

/// One fenced block: ```INFO, its lines, and the line of its opening fence
/// (1-based, for messages).
pub struct Block {
    pub line: usize,
    pub info: String,
    pub lines: Vec<String>,
}

impl Block {
    /// The language: the info string's first word (`console`, `sh`, `hup`).
    pub fn language(&self) -> &str {
        self.info.split_whitespace().next().unwrap_or("")
    }

    /// Whether the info string has the word `flag` after the language
    /// (```console tls).
    pub fn has(&self, flag: &str) -> bool {
        self.info.split_whitespace().skip(1).any(|word| word == flag)
    }

    /// The value of `NAME=VALUE` in the info string (```hup file=api.hup).
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.info
            .split_whitespace()
            .skip(1)
            .find_map(|word| word.strip_prefix(name)?.strip_prefix('='))
    }
}

/// Every fenced block of `markdown`, in order. A fence may be indented (in
/// a list item); the block's lines lose that indentation.
pub fn blocks(markdown: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, Block)> = None;
    for (index, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut open {
            None => {
                // An info string holds no backtick: "```` ```sh ````" is
                // inline code, not a fence.
                if let Some(info) = trimmed.strip_prefix("```").filter(|info| !info.contains('`')) {
                    let block = Block {
                        line: index + 1,
                        info: info.trim().to_string(),
                        lines: Vec::new(),
                    };
                    open = Some((line.len() - trimmed.len(), block));
                }
            }
            Some((indent, block)) => {
                if trimmed.trim_end() == "```" {
                    blocks.extend(open.take().map(|(_, block)| block));
                } else {
                    let cut = line.len() - line.trim_start().len();
                    block.lines.push(line[cut.min(*indent)..].to_string());
                }
            }
        }
    }
    assert!(open.is_none(), "a fenced block is never closed");
    blocks
}

/// One `$ command` of a console block and the output shown under it.
pub struct Command {
    /// Its line in the markdown file.
    pub line: usize,
    /// The command as typed, comment included (for messages).
    pub typed: String,
    /// What the shell runs: no comment, no trailing `&`.
    pub code: String,
    pub background: bool,
    /// The exit status its comment states (`# exit 56`), else 0.
    pub exit: i32,
    pub expected: Vec<String>,
}

/// The commands of a ```console block.
pub fn commands(block: &Block) -> Result<Vec<Command>, String> {
    let mut commands: Vec<Command> = Vec::new();
    for (offset, line) in block.lines.iter().enumerate() {
        let number = block.line + 1 + offset;
        if let Some(typed) = line.strip_prefix("$ ") {
            let (code, comment) = split_comment(typed);
            let code = code.trim_end();
            let (code, background) = match code.strip_suffix('&') {
                Some(rest) if !rest.ends_with('&') => (rest.trim_end(), true),
                _ => (code, false),
            };
            let exit = match comment.and_then(|c| c.trim().strip_prefix("exit ")) {
                Some(rest) => {
                    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                    digits
                        .parse()
                        .map_err(|_| format!("line {number}: `# exit` without a number"))?
                }
                None => 0,
            };
            commands.push(Command {
                line: number,
                typed: typed.to_string(),
                code: code.to_string(),
                background,
                exit,
                expected: Vec::new(),
            });
        } else {
            let Some(command) = commands.last_mut() else {
                return Err(format!("line {number}: output before any `$ ` command"));
            };
            command.expected.push(line.to_string());
        }
    }
    Ok(commands)
}

/// `line` split at its shell comment: a `#` that starts a word outside
/// quotes.
pub fn split_comment(line: &str) -> (&str, Option<&str>) {
    let mut quote = None;
    let mut previous = ' ';
    for (at, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), _) if c == q && (q == '\'' || previous != '\\') => quote = None,
            (None, '#') if previous.is_whitespace() => return (&line[..at], Some(&line[at + 1..])),
            _ => {}
        }
        previous = c;
    }
    (line, None)
}

#[test]
fn a_console_block_splits_into_commands_comments_and_output() {
    let block = &blocks(
        "text\n```console\n$ hangup serve hello &   # a server\nlistening on 127.0.0.1:9000\n\
         $ curl -sS 'http://x/#frag' # exit 56: reset\ncurl: (56) boom\n$ true && true\n```\n",
    )[0];
    assert_eq!((block.line, block.language()), (2, "console"));
    let commands = commands(block).unwrap();
    assert_eq!(commands.len(), 3);
    assert_eq!(
        (commands[0].code.as_str(), commands[0].background, commands[0].exit),
        ("hangup serve hello", true, 0)
    );
    assert_eq!(commands[0].expected, ["listening on 127.0.0.1:9000"]);
    assert_eq!(
        (commands[1].code.as_str(), commands[1].exit, commands[1].line),
        ("curl -sS 'http://x/#frag'", 56, 5)
    );
    assert_eq!(
        (commands[2].code.as_str(), commands[2].background),
        ("true && true", false)
    );
}

#[test]
fn an_indented_fence_and_an_attribute() {
    let blocks = blocks("- a ```` ```sh ```` block\n\n  ```hup file=api.hup\n  read request\n    reset\n  ```\n");
    assert_eq!(blocks.len(), 1);
    let block = &blocks[0];
    assert_eq!(block.attribute("file"), Some("api.hup"));
    assert_eq!(block.lines, ["read request", "  reset"]);
}
