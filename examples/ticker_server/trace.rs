//! Writing trace format v1 (`docs/trace-format.md`): the header, then one event at a time, as NDJSON (one event
//! per line) or as one JSON document. Events are serialized straight into the output buffer, without building
//! strings. Or, with [`ReplaySink`], the events are not written at all but applied to a [`gc_sim::Replay`] as they
//! are made: the simulation without the trace file.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::io::{self, Write};

use gc_sim::startup_heap::StartupHeap;
use gc_sim::trace::{Flow, Problem, TraceEvent, TraceHeader};
use gc_sim::{Collection, HeapConfig, Replay};

use serde::{Serialize, Serializer};

/// The two forms of a trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Form {
    /// One JSON document with an `events` array, one event per line.
    Json,
    /// Newline-delimited JSON: the header on the first line, then one event per line.
    Ndjson,
}

/// The trace header's `heap` object: only the fields given on the command line (the others keep Node 20's
/// defaults when replayed).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HeapHeader {
    /// `--min-semi-space-size`, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_semi_space_size: Option<u64>,
    /// `--max-semi-space-size`, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_semi_space_size: Option<u64>,
    /// `--max-old-space-size`, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_old_generation_size: Option<u64>,
    /// The initial old-generation allocation limit, bytes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub initial_old_generation_limit: Option<u64>,
}

impl HeapHeader {
    fn is_empty(&self) -> bool {
        *self == HeapHeader::default()
    }

    /// The heap configuration a replay of the trace uses: these fields over Node 20's defaults.
    pub fn config(&self) -> HeapConfig {
        let defaults = HeapConfig::default();
        HeapConfig {
            min_semi_space_size: self.min_semi_space_size.unwrap_or(defaults.min_semi_space_size),
            max_semi_space_size: self.max_semi_space_size.unwrap_or(defaults.max_semi_space_size),
            max_old_generation_size: self.max_old_generation_size.unwrap_or(defaults.max_old_generation_size),
            initial_old_generation_limit: self.initial_old_generation_limit,
            ..defaults
        }
    }
}

#[derive(Serialize)]
struct Header<'a> {
    format: &'static str,
    version: u32,
    name: &'a str,
    #[serde(skip_serializing_if = "HeapHeader::is_empty")]
    heap: &'a HeapHeader,
    /// The heap the server starts from: Node's own, scaled to the ticker's (`--node-heap`), or none.
    #[serde(skip_serializing_if = "Option::is_none")]
    initial_heap: Option<StartupHeap>,
}

/// The tag of connection `id`'s objects, `conn-<id>`, serialized without building a string.
#[derive(Clone, Copy, Debug)]
pub struct ConnTag(pub u32);

impl Serialize for ConnTag {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&format_args!("conn-{}", self.0))
    }
}

/// Formatted text, serialized as a JSON string without building it first.
pub(crate) struct Text<'a>(fmt::Arguments<'a>);

impl Serialize for Text<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.0)
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// One trace event, as the format spells it.
#[derive(Serialize)]
#[serde(tag = "op", rename_all = "lowercase")]
pub(crate) enum Event<'a> {
    Alloc {
        id: u64,
        size: u32,
        #[serde(skip_serializing_if = "is_zero")]
        slots: u32,
        kind: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        tag: Option<ConnTag>,
        #[serde(skip_serializing_if = "Option::is_none")]
        site: Option<&'a str>,
        #[serde(skip_serializing_if = "Option::is_none")]
        root: Option<&'a str>,
    },
    Write {
        obj: u64,
        slot: u32,
        to: Option<u64>,
    },
    Unroot {
        id: u64,
        root: &'a str,
    },
    Enter,
    Exit,
    Tick {
        ms: u64,
    },
    Gc {
        kind: &'a str,
    },
    Mark {
        label: Text<'a>,
        #[serde(skip_serializing_if = "Option::is_none")]
        closes: Option<ConnTag>,
    },
}

/// An object to allocate: everything of an `alloc` event but its id.
#[derive(Clone, Copy, Debug)]
pub struct Alloc<'a> {
    /// Bytes.
    pub size: u32,
    /// Reference slots.
    pub slots: u32,
    /// The heap-snapshot type name.
    pub kind: &'a str,
    /// The connection it belongs to.
    pub tag: Option<ConnTag>,
    /// Where it comes from.
    pub site: Option<&'a str>,
    /// The root set holding it from the start.
    pub root: Option<&'a str>,
}

/// Where a [`TraceWriter`]'s events go.
pub(crate) trait Sink {
    /// Takes the next event.
    fn event(&mut self, event: &Event<'_>) -> io::Result<()>;
}

/// Writes the events as text, NDJSON or JSON.
pub struct TextSink<W: Write> {
    out: W,
    form: Form,
    events: u64,
}

impl<W: Write> Sink for TextSink<W> {
    fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        let separator: &[u8] = match (self.form, self.events) {
            (Form::Json, 0) | (Form::Ndjson, _) => b"\n",
            (Form::Json, _) => b",\n",
        };
        self.out.write_all(separator)?;
        serde_json::to_writer(&mut self.out, event)?;
        self.events += 1;
        Ok(())
    }
}

/// Applies the events to a replay as they are made, as `gc-sim run` would after reading them back. Events after the
/// simulated program ran out of memory are dropped, as `gc-sim run` stops reading there.
pub struct ReplaySink {
    replay: Replay,
    /// Scratch text for a tag or a label, reused.
    text: String,
}

impl Sink for ReplaySink {
    fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        if self.replay.out_of_memory_event().is_some() {
            return Ok(());
        }
        let text = &mut self.text;
        text.clear();
        let event = match *event {
            Event::Alloc { id, size, slots, kind, tag, site, root } => {
                if let Some(ConnTag(conn)) = tag {
                    write!(text, "conn-{conn}").expect("formatting into a String");
                }
                TraceEvent::Alloc {
                    id,
                    size,
                    slots,
                    kind: Some(Cow::Borrowed(kind)),
                    tag: tag.map(|_| Cow::Borrowed(text.as_str())),
                    site: site.map(Cow::Borrowed),
                    root: root.map(Cow::Borrowed),
                    pretenured: false,
                }
            }
            Event::Write { obj, slot, to } => TraceEvent::Write { obj, slot, to },
            Event::Unroot { id, root } => TraceEvent::Unroot { id, root: Cow::Borrowed(root) },
            Event::Enter => TraceEvent::Enter,
            Event::Exit => TraceEvent::Exit,
            Event::Tick { ms } => TraceEvent::Tick { ms: ms as f64 },
            Event::Gc { kind } => {
                TraceEvent::Gc { kind: if kind == "minor" { Collection::Minor } else { Collection::Major } }
            }
            Event::Mark { ref label, closes } => {
                write!(text, "{}", label.0).expect("formatting into a String");
                let label_end = text.len();
                if let Some(ConnTag(conn)) = closes {
                    write!(text, "conn-{conn}").expect("formatting into a String");
                }
                TraceEvent::Mark {
                    label: Cow::Borrowed(&text[..label_end]),
                    closes: closes.map(|_| Cow::Borrowed(&text[label_end..])),
                }
            }
        };
        match self.replay.apply(event) {
            Ok(Flow::Continue | Flow::Stop) => Ok(()),
            Err(problem) => Err(io::Error::other(format!("the generated trace is invalid: {problem}"))),
        }
    }
}

/// Writes a trace: the header on creation, then events, then the end of the document on [`finish`].
///
/// Object ids are handed out by [`alloc`](TraceWriter::alloc) as a counter from 1, the cheapest form for the
/// replay's id table.
///
/// [`finish`]: TraceWriter::finish
pub struct TraceWriter<S> {
    sink: S,
    events: u64,
    next_id: u64,
}

impl<W: Write> TraceWriter<TextSink<W>> {
    /// Starts a trace named `name` with heap configuration `heap`, from the heap `initial_heap` if any.
    ///
    /// # Errors
    /// Any error writing to `out`.
    pub fn new(
        mut out: W,
        form: Form,
        name: &str,
        heap: &HeapHeader,
        initial_heap: Option<StartupHeap>,
    ) -> io::Result<Self> {
        let header = Header { format: "gc-sim-trace", version: 1, name, heap, initial_heap };
        match form {
            Form::Ndjson => {
                serde_json::to_writer(&mut out, &header)?;
            }
            Form::Json => {
                // The header's fields, then `events`, in one object.
                let mut text = serde_json::to_vec(&header)?;
                text.pop(); // the closing brace
                out.write_all(&text)?;
                out.write_all(br#","events":["#)?;
            }
        }
        Ok(TraceWriter { sink: TextSink { out, form, events: 0 }, events: 0, next_id: 1 })
    }

    /// Ends the document and flushes; returns the output.
    ///
    /// # Errors
    /// Any error writing to the output.
    pub fn finish(self) -> io::Result<W> {
        let TextSink { mut out, form, .. } = self.sink;
        let end: &[u8] = match form {
            Form::Ndjson => b"\n",
            Form::Json => b"\n]}\n",
        };
        out.write_all(end)?;
        out.flush()?;
        Ok(out)
    }
}

impl TraceWriter<ReplaySink> {
    /// Starts a replay named `name` on a heap configured with `config`, in place of a trace: as a replay of the
    /// trace [`TraceWriter::new`] writes, from the same header.
    pub fn replaying(name: &str, config: HeapConfig, initial_heap: Option<StartupHeap>) -> Result<Self, Problem> {
        let header = TraceHeader { initial_heap, ..TraceHeader::new(name, config) };
        let replay = Replay::from_header(&header, |_| Ok(()))?;
        Ok(TraceWriter { sink: ReplaySink { replay, text: String::new() }, events: 0, next_id: 1 })
    }

    /// Replays the events on `replay`, a replay already started (on an imported heap, say).
    pub fn replaying_on(replay: Replay) -> Self {
        TraceWriter { sink: ReplaySink { replay, text: String::new() }, events: 0, next_id: 1 }
    }

    /// The replay of every event.
    pub fn into_replay(self) -> Replay {
        self.sink.replay
    }
}

impl<S: Sink> TraceWriter<S> {
    fn event(&mut self, event: &Event<'_>) -> io::Result<()> {
        self.sink.event(event)?;
        self.events += 1;
        Ok(())
    }

    /// Events written so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// The id the next [`alloc`](TraceWriter::alloc) will give.
    pub fn next_id(&self) -> u64 {
        self.next_id
    }

    /// `alloc`: allocates an object and returns its id.
    pub fn alloc(&mut self, object: Alloc<'_>) -> io::Result<u64> {
        let id = self.next_id;
        self.next_id += 1;
        let Alloc { size, slots, kind, tag, site, root } = object;
        self.event(&Event::Alloc { id, size, slots, kind, tag, site, root })?;
        Ok(id)
    }

    /// `alloc` of a temporary: a size and a kind, nothing else.
    pub fn alloc_temporary(&mut self, size: u32, kind: &str) -> io::Result<u64> {
        self.alloc(Alloc { size, slots: 0, kind, tag: None, site: None, root: None })
    }

    /// `write`: `obj.slots[slot] = to` (`None` clears the slot).
    pub fn write(&mut self, obj: u64, slot: u32, to: Option<u64>) -> io::Result<()> {
        self.event(&Event::Write { obj, slot, to })
    }

    /// `unroot`: one handle to `id` less in root set `root`.
    pub fn unroot(&mut self, id: u64, root: &str) -> io::Result<()> {
        self.event(&Event::Unroot { id, root })
    }

    /// `enter`: opens a handle scope.
    pub fn enter(&mut self) -> io::Result<()> {
        self.event(&Event::Enter)
    }

    /// `exit`: closes the innermost handle scope.
    pub fn exit(&mut self) -> io::Result<()> {
        self.event(&Event::Exit)
    }

    /// `tick`: `ms` milliseconds of mutator time.
    pub fn tick(&mut self, ms: u64) -> io::Result<()> {
        self.event(&Event::Tick { ms })
    }

    /// `gc` of kind `major` (`global.gc()`).
    pub fn gc_major(&mut self) -> io::Result<()> {
        self.event(&Event::Gc { kind: "major" })
    }

    /// `mark`: an annotation, closing the connection `closes` if given.
    pub fn mark(&mut self, label: fmt::Arguments<'_>, closes: Option<ConnTag>) -> io::Result<()> {
        self.event(&Event::Mark { label: Text(label), closes })
    }
}
