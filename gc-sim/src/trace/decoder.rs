//! The hand-written event decoder: one JSON object straight into a [`TraceEvent`], with no intermediate struct of
//! every possible field and no copy of a string without escapes. [`Op`] lists the ops with their fields; [`Field`]
//! the operand names; [`EventFields::read`] reads a field's value, [`EventFields::into_event`] checks an event
//! against its op's rules.
//!
//! Two readers feed them: serde_json ([`EventSeed`]), which reads any JSON and words every problem, and
//! [`fast_event`], a scan of the one-line objects trace writers emit that gives up, leaving the line to serde, at
//! anything else (an escape, a float where an integer goes, an unknown or repeated key, malformed JSON).

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, Visitor};
use serde::Deserialize;

use super::error::{Problem, ProblemKind};
use super::event::TraceEvent;
use crate::heap::Collection;
use crate::object::{max_slots, MAX_OBJECT_SIZE};

/// `event: MESSAGE` becomes ``event: `FIELD`: MESSAGE`` when serde rejected the value of a known field.
pub(super) fn name_event_field(mut problem: Problem, field: Option<Field>) -> Problem {
    if let (ProblemKind::Field, Some(field)) = (problem.kind, field) {
        if let Some(message) = problem.message.strip_prefix("event: ") {
            problem.message = format!("event: `{}`: {message}", field.name());
        }
    }
    problem
}

/// The ops of format v1, in the order of their rows in [`OPS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Op {
    Alloc,
    Write,
    Root,
    Unroot,
    Enter,
    Exit,
    Tick,
    Gc,
    Mark,
}

/// One row per op, in [`Op`]'s order: the op, its name in a trace, and the fields an event of it may have besides
/// `op`, in the order problems name them.
const OPS: [(Op, &str, &[Field]); 9] = [
    (
        Op::Alloc,
        "alloc",
        &[Field::Id, Field::Size, Field::Slots, Field::Kind, Field::Tag, Field::Site, Field::Root, Field::Pretenured],
    ),
    (Op::Write, "write", &[Field::Obj, Field::Slot, Field::To]),
    (Op::Root, "root", &[Field::Id, Field::Root]),
    (Op::Unroot, "unroot", &[Field::Id, Field::Root]),
    (Op::Enter, "enter", &[]),
    (Op::Exit, "exit", &[]),
    (Op::Tick, "tick", &[Field::Ms]),
    (Op::Gc, "gc", &[Field::Kind]),
    (Op::Mark, "mark", &[Field::Label, Field::Closes]),
];

impl Op {
    fn parse(name: &str) -> Result<Op, Problem> {
        Op::from_name(name).ok_or_else(|| {
            let names: Vec<&str> = OPS.iter().map(|&(_, name, _)| name).collect();
            Problem::new(ProblemKind::UnknownOp, format!("unknown op \"{name}\" (the ops: {})", names.join(", ")))
        })
    }

    /// The op called `name` (a `match`: the compiler tests the length first, then the bytes). A row of [`OPS`]
    /// missing here would be an unknown op; the table test checks that every row is here.
    fn from_name(name: &str) -> Option<Op> {
        Some(match name {
            "alloc" => Op::Alloc,
            "write" => Op::Write,
            "root" => Op::Root,
            "unroot" => Op::Unroot,
            "enter" => Op::Enter,
            "exit" => Op::Exit,
            "tick" => Op::Tick,
            "gc" => Op::Gc,
            "mark" => Op::Mark,
            _ => return None,
        })
    }

    /// The fields an event of this op may have, besides `op`.
    fn fields(self) -> &'static [Field] {
        OPS[self as usize].2
    }

    /// [`fields`](Self::fields) as a set, made from the table at compile time (a set made per event cost about 12
    /// instructions an event, 1 % of reading NDJSON).
    fn allowed(self) -> FieldSet {
        const ALLOWED: [FieldSet; OPS.len()] = {
            let mut sets = [FieldSet(0); OPS.len()];
            let mut i = 0;
            while i < OPS.len() {
                sets[i] = FieldSet::of(OPS[i].2);
                i += 1;
            }
            sets
        };
        ALLOWED[self as usize]
    }

    fn name(self) -> &'static str {
        OPS[self as usize].1
    }
}

/// The field names of an event, in the order of their rows in [`FIELDS`]. Derived, so that an unknown field gets
/// serde's own message (``unknown field `colour`, expected one of `op`, `id`, ...``).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
pub(super) enum Field {
    Op,
    Id,
    Size,
    Slots,
    Kind,
    Tag,
    Site,
    Root,
    Pretenured,
    Obj,
    Slot,
    To,
    Ms,
    Label,
    Closes,
}

/// One row per field, in [`Field`]'s order, with its name (as serde's `rename_all` spells it). `op` comes first;
/// the operands follow in the order problems name them.
const FIELDS: [(Field, &str); 15] = [
    (Field::Op, "op"),
    (Field::Id, "id"),
    (Field::Size, "size"),
    (Field::Slots, "slots"),
    (Field::Kind, "kind"),
    (Field::Tag, "tag"),
    (Field::Site, "site"),
    (Field::Root, "root"),
    (Field::Pretenured, "pretenured"),
    (Field::Obj, "obj"),
    (Field::Slot, "slot"),
    (Field::To, "to"),
    (Field::Ms, "ms"),
    (Field::Label, "label"),
    (Field::Closes, "closes"),
];

impl Field {
    /// The field called `name`, for [`fast_event`] (serde's derived visitor does the same for [`EventSeed`], with its
    /// message for an unknown name). A row of [`FIELDS`] missing here would send every line with that field to
    /// serde; the table test checks that every row is here.
    fn from_name(name: &str) -> Option<Field> {
        Some(match name {
            "op" => Field::Op,
            "id" => Field::Id,
            "size" => Field::Size,
            "slots" => Field::Slots,
            "kind" => Field::Kind,
            "tag" => Field::Tag,
            "site" => Field::Site,
            "root" => Field::Root,
            "pretenured" => Field::Pretenured,
            "obj" => Field::Obj,
            "slot" => Field::Slot,
            "to" => Field::To,
            "ms" => Field::Ms,
            "label" => Field::Label,
            "closes" => Field::Closes,
            _ => return None,
        })
    }

    /// Every field but `op`, in the order problems name them.
    fn operands() -> impl Iterator<Item = Field> {
        FIELDS[1..].iter().map(|&(field, _)| field)
    }

    fn name(self) -> &'static str {
        FIELDS[self as usize].1
    }

    /// The field's bit in a [`FieldSet`].
    const fn bit(self) -> u16 {
        1 << self as u16
    }
}

/// A set of [`Field`]s, one bit each.
#[derive(Clone, Copy, Default)]
struct FieldSet(u16);

impl FieldSet {
    const fn of(fields: &[Field]) -> FieldSet {
        let mut bits = 0;
        let mut i = 0;
        while i < fields.len() {
            bits |= fields[i].bit();
            i += 1;
        }
        FieldSet(bits)
    }

    fn contains(self, field: Field) -> bool {
        self.0 & field.bit() != 0
    }

    fn insert(&mut self, field: Field) {
        self.0 |= field.bit();
    }
}

/// A string that borrows from the input unless it has escapes (serde's `Cow<str>` always copies).
struct Text<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Text<'de> {
    fn deserialize<D: de::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;

        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Text<'de>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(text)))
            }

            fn visit_str<E: de::Error>(self, text: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text.to_owned())))
            }

            fn visit_string<E: de::Error>(self, text: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(text)))
            }
        }

        deserializer.deserialize_str(TextVisitor)
    }
}

/// Reads one event object straight into a [`TraceEvent`], with no intermediate struct of every possible field.
///
/// JSON problems (syntax, a wrong type, an unknown or repeated field, no `op`) are serde errors, so that they keep
/// serde's position; the format's own rules (the op's fields, sizes) come out as the inner `Err` once the whole
/// object has been read.
///
/// A value of the wrong type names its field: the seed records in `failed` which field's value serde rejected, and
/// the reader puts it in the message (`event: `kind`: invalid type: ...`). Nothing is recorded unless a value fails.
#[derive(Clone, Copy)]
pub(super) struct EventSeed<'c> {
    pub(super) failed: &'c Cell<Option<Field>>,
}

impl<'de> DeserializeSeed<'de> for EventSeed<'_> {
    type Value = Result<TraceEvent<'de>, Problem>;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EventSeed<'_> {
    type Value = Result<TraceEvent<'de>, Problem>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an event object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut op = None;
        let mut event = EventFields::default();
        let mut seen = FieldSet::default();
        while let Some(field) = map.next_key::<Field>()? {
            if seen.contains(field) {
                return Err(de::Error::duplicate_field(field.name()));
            }
            seen.insert(field);
            event.read(field, &mut SerdeValues { map: &mut map, failed: self.failed }, &mut op)?;
        }
        let op = op.ok_or_else(|| de::Error::missing_field("op"))?;
        Ok(Op::parse(&op).and_then(|op| event.into_event(op)))
    }
}

/// Where [`EventFields::read`] reads a field's value from: serde's map ([`SerdeValues`]) or the fast path's scan
/// ([`Scan`]). `field` is the field whose value is read. Each reader returns `None` for `null` (but `name`).
trait Values<'de> {
    type Error;
    fn u64(&mut self, field: Field) -> Result<Option<u64>, Self::Error>;
    fn bool(&mut self, field: Field) -> Result<Option<bool>, Self::Error>;
    fn f64(&mut self, field: Field) -> Result<Option<f64>, Self::Error>;
    fn text(&mut self, field: Field) -> Result<Option<Cow<'de, str>>, Self::Error>;
    /// A string, not `null` (the op's name).
    fn name(&mut self, field: Field) -> Result<Cow<'de, str>, Self::Error>;
}

/// The next value of serde's map; a value serde rejects records its field in `failed`.
struct SerdeValues<'m, 'c, A> {
    map: &'m mut A,
    failed: &'c Cell<Option<Field>>,
}

impl<'de, A: MapAccess<'de>> SerdeValues<'_, '_, A> {
    fn value<T: Deserialize<'de>>(&mut self, field: Field) -> Result<T, A::Error> {
        self.map.next_value().inspect_err(|_| self.failed.set(Some(field)))
    }
}

impl<'de, A: MapAccess<'de>> Values<'de> for SerdeValues<'_, '_, A> {
    type Error = A::Error;

    fn u64(&mut self, field: Field) -> Result<Option<u64>, A::Error> {
        self.value(field)
    }

    fn bool(&mut self, field: Field) -> Result<Option<bool>, A::Error> {
        self.value(field)
    }

    fn f64(&mut self, field: Field) -> Result<Option<f64>, A::Error> {
        self.value(field)
    }

    fn text(&mut self, field: Field) -> Result<Option<Cow<'de, str>>, A::Error> {
        Ok(self.value::<Option<Text<'de>>>(field)?.map(|text| text.0))
    }

    fn name(&mut self, field: Field) -> Result<Cow<'de, str>, A::Error> {
        Ok(self.value::<Text<'de>>(field)?.0)
    }
}

/// Reads one event line without serde when it is written as trace writers write events: one object, keys without
/// escapes, integers where the format has integers, strings without escapes, no nesting. Anything else (including
/// every malformed line) gives `None`, and the caller reads the line with serde ([`EventSeed`]), which words the
/// problem and places it: a line read here is read as serde would read it (`tests::the_fast_path_reads_as_serde`).
/// The inner `Err` is the format's rules, as [`EventSeed`]'s.
///
/// `text` is the whole line, without its line end and surrounding whitespace.
pub(super) fn fast_event(text: &str) -> Option<Result<TraceEvent<'_>, Problem>> {
    let mut scan = Scan { text, at: 0 };
    scan.byte(b'{')?;
    let mut op = None;
    let mut event = EventFields::default();
    let mut seen = FieldSet::default();
    loop {
        scan.whitespace();
        scan.byte(b'"')?;
        let field = Field::from_name(scan.string()?)?;
        if seen.contains(field) {
            return None;
        }
        seen.insert(field);
        scan.whitespace();
        scan.byte(b':')?;
        scan.whitespace();
        event.read(field, &mut scan, &mut op).ok()?;
        scan.whitespace();
        match scan.next()? {
            b',' => {}
            b'}' => break,
            _ => return None,
        }
    }
    if scan.at != text.len() {
        return None;
    }
    let op = Op::from_name(&op?)?;
    Some(event.into_event(op))
}

/// The fast path's position in a line. Every method gives `None` where serde's reading might differ.
struct Scan<'a> {
    text: &'a str,
    at: usize,
}

impl<'a> Scan<'a> {
    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn next(&mut self) -> Option<u8> {
        let byte = self.peek()?;
        self.at += 1;
        Some(byte)
    }

    fn byte(&mut self, expected: u8) -> Option<()> {
        (self.next()? == expected).then_some(())
    }

    /// JSON's whitespace, as serde_json skips it.
    fn whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// `word` (`null`, `true`, `false`) in full; what follows it is checked by the caller.
    fn word(&mut self, word: &str) -> Option<()> {
        let end = self.at + word.len();
        (self.text.as_bytes().get(self.at..end)? == word.as_bytes()).then(|| self.at = end)
    }

    /// `null`: true, and it is consumed.
    fn null(&mut self) -> bool {
        self.peek() == Some(b'n') && self.word("null").is_some()
    }

    /// The rest of a string whose opening quote was read, if it has no escape and no control character (the
    /// line is valid UTF-8, and the quote is ASCII, so the slice is on character boundaries).
    fn string(&mut self) -> Option<&'a str> {
        let start = self.at;
        let bytes = self.text.as_bytes();
        loop {
            match *bytes.get(self.at)? {
                b'"' => break,
                b'\\' | 0..=0x1f => return None,
                _ => self.at += 1,
            }
        }
        self.at += 1;
        Some(&self.text[start..self.at - 1])
    }

    /// A whole number without sign, fraction or exponent, at most `u64::MAX`, as serde_json reads it: `0`, or
    /// digits not starting with `0`. A `.` or `e` after it is left for the caller to refuse.
    fn integer(&mut self) -> Option<u64> {
        let start = self.at;
        let mut value: u64 = 0;
        while let Some(digit @ b'0'..=b'9') = self.peek() {
            value = value.checked_mul(10)?.checked_add(u64::from(digit - b'0'))?;
            self.at += 1;
        }
        let digits = self.at - start;
        (digits == 1 || (digits > 1 && self.text.as_bytes()[start] != b'0')).then_some(value)
    }
}

impl<'a> Values<'a> for Scan<'a> {
    type Error = ();

    fn u64(&mut self, _: Field) -> Result<Option<u64>, ()> {
        if self.null() {
            return Ok(None);
        }
        self.integer().map(Some).ok_or(())
    }

    fn bool(&mut self, _: Field) -> Result<Option<bool>, ()> {
        let value = match self.peek() {
            Some(b'n') => self.word("null").map(|()| None),
            Some(b't') => self.word("true").map(|()| Some(true)),
            Some(b'f') => self.word("false").map(|()| Some(false)),
            _ => None,
        };
        value.ok_or(())
    }

    /// serde_json itself reads the number (so that it rounds as serde_json does, `float_roundtrip`).
    fn f64(&mut self, _: Field) -> Result<Option<f64>, ()> {
        if self.null() {
            return Ok(None);
        }
        let start = self.at;
        if !matches!(self.peek(), Some(b'-' | b'0'..=b'9')) {
            return Err(());
        }
        while let Some(b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E') = self.peek() {
            self.at += 1;
        }
        serde_json::from_str(&self.text[start..self.at]).map(Some).map_err(drop)
    }

    fn text(&mut self, field: Field) -> Result<Option<Cow<'a, str>>, ()> {
        if self.null() {
            return Ok(None);
        }
        self.name(field).map(Some)
    }

    fn name(&mut self, _: Field) -> Result<Cow<'a, str>, ()> {
        self.byte(b'"').ok_or(())?;
        self.string().map(Cow::Borrowed).ok_or(())
    }
}

/// `value`, marking `field` given in `given` unless it is `None`.
fn mark<T>(given: &mut FieldSet, field: Field, value: Option<T>) -> Option<T> {
    if value.is_some() {
        given.insert(field);
    }
    value
}

/// The operands of an event as written; [`EventFields::into_event`] checks them against the op. `null` is the same
/// as leaving a field out, except for `to`, where it clears the slot.
#[derive(Default)]
struct EventFields<'a> {
    id: Option<u64>,
    size: Option<u64>,
    slots: Option<u64>,
    kind: Option<Cow<'a, str>>,
    tag: Option<Cow<'a, str>>,
    site: Option<Cow<'a, str>>,
    root: Option<Cow<'a, str>>,
    pretenured: Option<bool>,
    obj: Option<u64>,
    slot: Option<u64>,
    to: Option<Option<u64>>,
    ms: Option<f64>,
    label: Option<Cow<'a, str>>,
    closes: Option<Cow<'a, str>>,
    /// The fields given a value.
    given: FieldSet,
}

impl<'a> EventFields<'a> {
    /// Reads the value of `field` from `values` into its member (`op`'s into `op`). The one place that knows each
    /// field's type.
    fn read<V: Values<'a>>(
        &mut self,
        field: Field,
        values: &mut V,
        op: &mut Option<Cow<'a, str>>,
    ) -> Result<(), V::Error> {
        let given = &mut self.given;
        match field {
            Field::Op => *op = Some(values.name(field)?),
            Field::Id => self.id = mark(given, field, values.u64(field)?),
            Field::Size => self.size = mark(given, field, values.u64(field)?),
            Field::Slots => self.slots = mark(given, field, values.u64(field)?),
            Field::Kind => self.kind = mark(given, field, values.text(field)?),
            Field::Tag => self.tag = mark(given, field, values.text(field)?),
            Field::Site => self.site = mark(given, field, values.text(field)?),
            Field::Root => self.root = mark(given, field, values.text(field)?),
            Field::Pretenured => self.pretenured = mark(given, field, values.bool(field)?),
            Field::Obj => self.obj = mark(given, field, values.u64(field)?),
            Field::Slot => self.slot = mark(given, field, values.u64(field)?),
            Field::To => {
                // `"to": null` clears the slot: present, unlike a `null` anywhere else.
                self.to = Some(values.u64(field)?);
                given.insert(Field::To);
            }
            Field::Ms => self.ms = mark(given, field, values.f64(field)?),
            Field::Label => self.label = mark(given, field, values.text(field)?),
            Field::Closes => self.closes = mark(given, field, values.text(field)?),
        }
        Ok(())
    }

    fn into_event(self, op: Op) -> Result<TraceEvent<'a>, Problem> {
        if self.given.0 & !op.allowed().0 != 0 {
            let allowed = op.fields();
            let field = Field::operands().find(|&f| self.given.contains(f) && !allowed.contains(&f));
            let field = field.map_or("?", Field::name);
            let names: Vec<&str> = allowed.iter().map(|f| f.name()).collect();
            return Err(Problem::new(
                ProblemKind::Field,
                format!("`{}` has no field `{field}` (its fields: {})", op.name(), list(&names)),
            ));
        }
        let missing =
            |field: &str| Problem::new(ProblemKind::Field, format!("`{}` needs the field `{field}`", op.name()));
        let small = |field: &str, value: u64| {
            u32::try_from(value).map_err(|_| {
                Problem::new(ProblemKind::Field, format!("`{field}` is {value}, more than the maximum of {}", u32::MAX))
            })
        };
        Ok(match op {
            Op::Alloc => {
                let size = self.size.ok_or_else(|| missing("size"))?;
                if size == 0 {
                    return Err(Problem::new(ProblemKind::ZeroSize, "`size` is 0: an object has at least 1 byte"));
                }
                let size = u32::try_from(size).ok().filter(|&s| s <= MAX_OBJECT_SIZE).ok_or_else(|| {
                    let message = format!("`size` is {size}, more than the maximum of {MAX_OBJECT_SIZE}");
                    Problem::new(ProblemKind::Field, message)
                })?;
                let slots = self.slots.unwrap_or(0);
                if slots > u64::from(max_slots(size)) {
                    return Err(Problem::new(
                        ProblemKind::Field,
                        format!(
                            "`slots` is {slots}, more than an object of {size} B holds: at most {} (8-byte slots after \
                             the map word)",
                            max_slots(size)
                        ),
                    ));
                }
                TraceEvent::Alloc {
                    id: self.id.ok_or_else(|| missing("id"))?,
                    size,
                    slots: slots as u32,
                    kind: self.kind,
                    tag: self.tag,
                    site: self.site,
                    root: self.root,
                    pretenured: self.pretenured.unwrap_or(false),
                }
            }
            Op::Write => TraceEvent::Write {
                obj: self.obj.ok_or_else(|| missing("obj"))?,
                slot: small("slot", self.slot.ok_or_else(|| missing("slot"))?)?,
                to: self.to.ok_or_else(|| missing("to"))?,
            },
            Op::Root => TraceEvent::Root {
                id: self.id.ok_or_else(|| missing("id"))?,
                root: self.root.ok_or_else(|| missing("root"))?,
            },
            Op::Unroot => TraceEvent::Unroot {
                id: self.id.ok_or_else(|| missing("id"))?,
                root: self.root.ok_or_else(|| missing("root"))?,
            },
            Op::Enter => TraceEvent::Enter,
            Op::Exit => TraceEvent::Exit,
            Op::Tick => {
                let ms = self.ms.ok_or_else(|| missing("ms"))?;
                if !(ms.is_finite() && ms >= 0.0) {
                    return Err(Problem::new(ProblemKind::Field, format!("`ms` is {ms}: it must be a number >= 0")));
                }
                TraceEvent::Tick { ms }
            }
            Op::Gc => TraceEvent::Gc {
                kind: match self.kind.as_deref() {
                    Some("minor") => Collection::Minor,
                    Some("major") => Collection::Major,
                    Some(other) => {
                        return Err(Problem::new(
                            ProblemKind::Field,
                            format!("`gc` has kind \"{other}\", expected \"minor\" or \"major\""),
                        ))
                    }
                    None => return Err(missing("kind")),
                },
            },
            Op::Mark => TraceEvent::Mark { label: self.label.ok_or_else(|| missing("label"))?, closes: self.closes },
        })
    }
}

fn list(fields: &[&str]) -> String {
    if fields.is_empty() {
        "none".to_owned()
    } else {
        fields.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The tables are indexed by the enums' discriminants: each row must sit at its variant's index, and each field's
    /// name must be the one serde reads.
    #[test]
    fn every_row_sits_at_its_variants_index() {
        for (i, &(op, name, _)) in OPS.iter().enumerate() {
            assert_eq!((op as usize, Op::parse(name)), (i, Ok(op)), "{name}");
        }
        for (i, &(field, name)) in FIELDS.iter().enumerate() {
            assert_eq!(field as usize, i, "{name}");
            assert_eq!(serde_json::from_str::<Field>(&format!("\"{name}\"")).unwrap(), field);
            assert_eq!(Field::from_name(name), Some(field), "{name}");
        }
    }
}
