//! What the ticker server allocates, as tables: the long-lived object graph of one connection, the server's own
//! objects, and the short-lived temporaries of each step (handshake, first message, timer tick, close).
//!
//! Kinds are the type names of a Node 20 heap snapshot (`Object`, `closure`, `system / Context`, `(object
//! elements)`, ...), so that a report can be read side by side with the measured heap-snapshot diff
//! (`docs/ticker-server.md`). Sizes are V8's on x64 without pointer compression (8-byte tagged values), as measured
//! (`docs/v8-sources.md#object-sizes`) where possible.
//!
//! Two kinds of figures are used:
//! - **From the heap snapshot** (`docs/v8-sources.md#ticker-retained`, type by type in `docs/ticker-server.md`):
//!   the count and bytes per type of what one leaked connection retains. [`CONNECTION`] reproduces them type by
//!   type (83 objects, 5,256 B).
//! - **Calibrated** on the allocation totals of the real runs (`docs/v8-sources.md#ticker-server`): the objects of
//!   kind [`UNATTRIBUTED`] stand for what the real server allocates beyond the temporaries listed here, whose roles
//!   come from reading koa 3, koa-websocket 7, ws 8 and Node 20. See `docs/ticker-server.md` for the derivations.

/// When an object of a connection's graph is allocated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// When the connection opens: the upgrade, koa's context and the route handler.
    Open,
    /// When the connection closes: ws answers the close frame and arms its close timer.
    Close,
}

/// One long-lived object: a node of a connection's graph (or of the server's).
#[derive(Clone, Copy, Debug)]
pub struct Part {
    /// Name of the object in these tables; [`refs`](Part::refs) point to it by this name.
    pub name: &'static str,
    /// Its heap-snapshot type name.
    pub kind: &'static str,
    /// Its size in bytes, a multiple of 8.
    pub size: u32,
    /// What it is, written as the trace's `site`: its path from koa's `ctx` (`req` is `ctx.req`, `socket` is
    /// `req.socket`, `ws` is `ctx.websocket`, `[]` an array's elements), or where server.js creates it.
    pub site: &'static str,
    /// What it references: slot `i` holds the object named `refs[i]`.
    pub refs: &'static [&'static str],
    /// When it is allocated.
    pub phase: Phase,
    /// The root set that holds it from its allocation, if any.
    pub root: Option<&'static str>,
}

/// A short-lived object: allocated in a handle scope and garbage when the scope closes.
#[derive(Clone, Copy, Debug)]
pub struct Temporary {
    /// Its heap-snapshot type name.
    pub kind: &'static str,
    /// Its size in bytes.
    pub size: u32,
}

/// Node's timer lists (`timerListMap`): every armed `setInterval`/`setTimeout` Timeout.
pub const TIMERS: &str = "timers";
/// libuv handles: an open TCP socket is held by its handle (and the server's connection list) until it closes.
pub const HANDLES: &str = "handles";
/// Module-level variables of server.js (`app`, `router`).
pub const GLOBALS: &str = "globals";

/// The kind of calibration objects: bytes the real server allocates that the tables do not itemize.
pub const UNATTRIBUTED: &str = "(unattributed)";

const fn open(
    name: &'static str,
    kind: &'static str,
    size: u32,
    site: &'static str,
    refs: &'static [&'static str],
) -> Part {
    Part { name, kind, size, site, refs, phase: Phase::Open, root: None }
}

const fn at_close(
    name: &'static str,
    kind: &'static str,
    size: u32,
    site: &'static str,
    refs: &'static [&'static str],
) -> Part {
    Part { name, kind, size, site, refs, phase: Phase::Close, root: None }
}

impl Part {
    /// The same part, held by root set `root` from its allocation.
    const fn rooted(self, root: &'static str) -> Part {
        Part { root: Some(root), ..self }
    }
}

const fn temp(kind: &'static str, size: u32) -> Temporary {
    Temporary { kind, size }
}

/// The server itself, allocated once at start and held by `globals`. Not calibrated (the real figures are
/// differences between runs of the same server, in which it cancels out); it only shows that the fixed server
/// keeps a constant live set.
pub const SERVER: &[Part] = &[
    open("app", "Application", 128, "server.js app", &["middleware", "ws_server"]).rooted(GLOBALS),
    open("middleware", "Array", 32, "app.middleware", &["middleware_elements"]),
    open("middleware_elements", "(object elements)", 48, "app.middleware[]", &["router"]),
    open("router", "Router", 96, "server.js router", &[]),
    open("ws_server", "WebSocketServer", 160, "app.ws.server", &["http_server"]),
    open("http_server", "Server", 248, "app.listen()", &[]),
];

/// The long-lived objects of one connection: what `/websocket/:id` keeps while it is open and, in the leaky
/// server, forever after, since the interval's Timeout stays in [`TIMERS`].
///
/// Per type, counts and bytes follow the heap-snapshot diff of 500 leaked connections (83.5 objects and 5,342 B
/// per connection there; 83 objects and 5,256 B here, leaving out 0.6 objects and 96 B of maps, code and
/// descriptor arrays). The references are those of koa 3, koa-websocket 7, ws 8 and Node 20, so that everything is
/// reachable from the Timeout: Timeout → interval callback → its context → `ctx` → request, WebSocket → Socket ....
pub const CONNECTION: &[Part] = &[
    // server.js: `router.all('/websocket/:id', async ctx => { let t = setInterval(...); ws.on(...); ws.on(...) })`.
    // The three closures share the handler's context, which holds `ctx` and `t`.
    open("timeout", "Timeout", 120, "server.js setInterval", &["tick_fn", "timeout_idle_start"]).rooted(TIMERS),
    open("timeout_idle_start", "heap number", 16, "t._idleStart", &[]),
    open("tick_fn", "closure", 64, "server.js interval fn", &["handler_context"]),
    open("handler_context", "system / Context", 48, "server.js handler {ctx, t}", &["ctx", "timeout"]),
    open("message_fn", "closure", 56, "server.js on('message')", &["handler_context"]),
    open("close_fn", "closure", 56, "server.js on('close')", &["handler_context"]),
    // koa: `app.createContext(req)` in koa-websocket's onConnection, then koa-router's match.
    open("ctx", "Object", 56, "koa ctx", &["ctx_properties"]),
    open(
        "ctx_properties",
        "(object properties)",
        160,
        "ctx (properties)",
        &[
            "koa_request",
            "koa_response",
            "request",
            "websocket",
            "state",
            "params",
            "captures",
            "matched",
            "url_string",
        ],
    ),
    open("koa_request", "Object", 56, "ctx.request", &["koa_request_properties"]),
    open(
        "koa_request_properties",
        "system / PropertyArray",
        48,
        "ctx.request (properties)",
        &["ctx", "request", "koa_response"],
    ),
    open("koa_response", "Object", 56, "ctx.response", &["koa_response_properties"]),
    open(
        "koa_response_properties",
        "system / PropertyArray",
        48,
        "ctx.response (properties)",
        &["ctx", "request", "koa_request"],
    ),
    open("state", "Object", 56, "ctx.state", &[]),
    open("params", "Object", 32, "ctx.params", &["id_string"]),
    open("id_string", "string", 24, "ctx.params.id", &[]),
    open("captures", "Array", 32, "ctx.captures", &["captures_elements"]),
    open("captures_elements", "(object elements)", 32, "ctx.captures[]", &["capture_string"]),
    open("capture_string", "string", 24, "ctx.captures[0]", &[]),
    open("matched", "Array", 32, "ctx.matched", &["matched_elements"]),
    open("matched_elements", "(object elements)", 80, "ctx.matched[]", &[]),
    open("koa_ws_error_fn", "closure", 56, "koa-websocket on('error')", &[]),
    // node:http: the upgrade request, its headers and the parsed URL.
    open(
        "request",
        "IncomingMessage",
        248,
        "ctx.req",
        &[
            "request_properties",
            "request_readable",
            "request_events",
            "headers",
            "raw_headers",
            "url_string",
            "parsed_url",
            "socket",
        ],
    ),
    open("request_properties", "system / PropertyArray", 64, "req (properties)", &[]),
    open("request_readable", "ReadableState", 80, "req._readableState", &["request_readable_buffer"]),
    open("request_readable_buffer", "Array", 32, "req._readableState.buffer", &[]),
    open("request_events", "Object", 56, "req._events", &[]),
    open(
        "headers",
        "Object",
        56,
        "req.headers",
        &["headers_properties", "version_value", "key_value", "connection_value", "upgrade_value"],
    ),
    open(
        "headers_properties",
        "system / PropertyArray",
        40,
        "req.headers (properties)",
        &["extensions_value", "host_value"],
    ),
    open("raw_headers", "Array", 32, "req.rawHeaders", &["raw_headers_elements"]),
    open(
        "raw_headers_elements",
        "(object elements)",
        112,
        "req.rawHeaders[]",
        &[
            "version_name",
            "version_value",
            "key_name",
            "key_value",
            "connection_name",
            "connection_value",
            "upgrade_name",
            "upgrade_value",
            "extensions_name",
            "extensions_value",
            "host_name",
            "host_value",
        ],
    ),
    // The six headers of ws's client, as one-byte strings: 16 B of header plus the characters, rounded up to 8.
    open("version_name", "string", 40, "req.rawHeaders[0]", &[]),
    open("version_value", "string", 24, "req.rawHeaders[1]", &[]),
    open("key_name", "string", 40, "req.rawHeaders[2]", &[]),
    open("key_value", "string", 40, "req.rawHeaders[3]", &[]),
    open("connection_name", "string", 32, "req.rawHeaders[4]", &[]),
    open("connection_value", "string", 24, "req.rawHeaders[5]", &[]),
    open("upgrade_name", "string", 24, "req.rawHeaders[6]", &[]),
    open("upgrade_value", "string", 32, "req.rawHeaders[7]", &[]),
    open("extensions_name", "string", 40, "req.rawHeaders[8]", &[]),
    open("extensions_value", "string", 64, "req.rawHeaders[9]", &[]),
    open("host_name", "string", 24, "req.rawHeaders[10]", &[]),
    open("host_value", "string", 32, "req.rawHeaders[11]", &[]),
    open("url_string", "string", 32, "req.url", &[]),
    open("parsed_url", "Url", 128, "req._parsedUrl", &["url_string", "url_string", "url_string"]),
    // node:net: the TCP socket. Its libuv handle holds it while it is open.
    open(
        "socket",
        "Socket",
        328,
        "req.socket",
        &["socket_properties", "socket_readable", "socket_writable", "socket_events", "websocket"],
    )
    .rooted(HANDLES),
    open(
        "socket_properties",
        "(object properties)",
        160,
        "socket (properties)",
        &["remote_address", "bytes_read", "bytes_written"],
    ),
    open("remote_address", "string", 32, "socket.remoteAddress", &[]),
    open("bytes_read", "heap number", 16, "socket (a counter)", &[]),
    open("bytes_written", "heap number", 16, "socket (a counter)", &[]),
    open("socket_readable", "ReadableState", 80, "socket._readableState", &["socket_readable_buffer"]),
    open("socket_readable_buffer", "Array", 32, "socket._readableState.buffer", &[]),
    open("socket_writable", "WritableState", 104, "socket._writableState", &["socket_writable_buffered"]),
    open("socket_writable_buffered", "Array", 32, "socket._writableState.buffered", &[]),
    open("socket_events", "Object", 56, "socket._events", &["socket_close_listeners", "koa_ws_error_fn"]),
    open("socket_close_listeners", "Array", 32, "socket._events.close", &["socket_close_listeners_elements"]),
    open(
        "socket_close_listeners_elements",
        "(object elements)",
        72,
        "socket._events.close[]",
        &["http_bound_listener", "http_listener_fn"],
    ),
    open("http_bound_listener", "native_bind", 48, "socket._events.close[0]", &["http_bound_args"]),
    open("http_bound_args", "(bound arguments)", 24, "socket._events.close[0] (args)", &["socket"]),
    open("http_listener_fn", "closure", 56, "socket._events.close[1]", &["http_context"]),
    open("http_context", "system / Context", 40, "socket._events.close[1] (context)", &["socket", "request"]),
    // ws: the WebSocket, its Receiver (a Writable) and Sender. The two slots after `extensions` are written at
    // close: `_closeTimer` and `_closeMessage`.
    open(
        "websocket",
        "WebSocket",
        224,
        "ctx.websocket",
        &[
            "websocket_properties",
            "websocket_events",
            "socket",
            "receiver",
            "sender",
            "extensions",
            "close_timer",
            "close_reason",
        ],
    ),
    open("websocket_properties", "system / PropertyArray", 56, "ws (properties)", &[]),
    open("websocket_events", "Object", 56, "ws._events", &["message_fn", "ws_close_listeners"]),
    open("ws_close_listeners", "Array", 32, "ws._events.close", &["ws_close_listeners_elements"]),
    open(
        "ws_close_listeners_elements",
        "(object elements)",
        48,
        "ws._events.close[]",
        &["close_fn", "clients_delete_fn"],
    ),
    open("clients_delete_fn", "closure", 56, "ws._events.close[1]", &["clients_delete_context"]),
    open("clients_delete_context", "system / Context", 48, "ws._events.close[1] (context)", &["websocket"]),
    open("extensions", "Object", 56, "ws._extensions", &[]),
    open(
        "receiver",
        "Receiver",
        272,
        "ws._receiver",
        &[
            "receiver_properties",
            "receiver_writable",
            "receiver_events",
            "receiver_buffers",
            "receiver_fragments",
            "websocket",
        ],
    ),
    open("receiver_properties", "system / PropertyArray", 56, "ws._receiver (properties)", &[]),
    open("receiver_writable", "WritableState", 104, "ws._receiver._writableState", &["receiver_writable_buffered"]),
    open("receiver_writable_buffered", "Array", 32, "ws._receiver._writableState.buffered", &[]),
    open("receiver_events", "Object", 56, "ws._receiver._events", &[]),
    open("receiver_buffers", "Array", 32, "ws._receiver._buffers", &[]),
    open("receiver_fragments", "Array", 32, "ws._receiver._fragments", &[]),
    open("sender", "Sender", 96, "ws._sender", &["socket", "sender_queue"]),
    open("sender_queue", "Array", 32, "ws._sender._queue", &[]),
    // At close, ws keeps the close frame's reason (a view of the chunk that carried it) and arms
    // `_closeTimer = setTimeout(socket.destroy.bind(socket), closeTimeout)`, cleared again when the socket closes.
    at_close("close_reason", "Buffer", 96, "ws._closeMessage", &["close_chunk"]),
    at_close("close_chunk", "ArrayBuffer", 88, "ws._closeMessage.buffer", &[]),
    at_close("close_timer", "Timeout", 120, "ws._closeTimer", &["close_timer_callback", "close_timer_idle_start"])
        .rooted(TIMERS),
    at_close("close_timer_idle_start", "heap number", 16, "ws._closeTimer._idleStart", &[]),
    at_close(
        "close_timer_callback",
        "native_bind",
        48,
        "ws._closeTimer._onTimeout",
        &["close_timer_bound_args", "socket"],
    ),
    at_close("close_timer_bound_args", "(bound arguments)", 24, "ws._closeTimer._onTimeout (args)", &["socket"]),
];

/// The Timeout of `setInterval`: the connection's entry in [`TIMERS`].
pub const INTERVAL_TIMEOUT: &str = "timeout";
/// ws's close timer: armed when the close frame arrives, cleared (unrooted) when the socket closes.
pub const CLOSE_TIMER: &str = "close_timer";
/// The Socket: held by [`HANDLES`] while open.
pub const SOCKET: &str = "socket";
/// The Socket's reference to its WebSocket (`socket[kWebSocket]`), which ws clears when the socket closes.
pub const SOCKET_TO_WEBSOCKET: (&str, &str) = ("socket", "websocket");

/// Temporaries of the connection's setup: reading and parsing the upgrade request, ws's handshake, koa's
/// middleware and koa-router's match.
pub const HANDSHAKE: &[Temporary] = &[
    temp("ArrayBuffer", 88),        // node:net: the chunk holding the request head
    temp("Buffer", 96),             // node:net: its Buffer view
    temp("Array", 32),              // node:http: the parser's header list ...
    temp("(object elements)", 112), // ... and its elements
    temp("string", 40),             // node:http: lowercased header names and values for req.headers ...
    temp("string", 32),             // ...
    temp("Object", 80),             // node:crypto: createHash('sha1') for Sec-WebSocket-Accept ...
    temp("string", 48),             // ... and its base64 digest
    temp("Array", 32),              // ws: the 101 response's header lines ...
    temp("(object elements)", 88),  // ... their elements ...
    temp("string", 160),            // ... and the joined response head
    temp("Url", 128),               // koa-websocket: url.parse(request.url).pathname
    temp("closure", 56),            // koa-compose: compose(middleware) ...
    temp("system / Context", 48),   // ... and its context
    temp("Promise", 40),            // koa-compose and the async route handler: promises ...
    temp("Promise", 40),
    temp("Promise", 40),
    temp("Promise", 40),
    temp("Object", 80),            // ... the async function's generator object
    temp("Array", 32),             // koa-router: the path regexp's match result ...
    temp("(object elements)", 40), // ... and its elements
    temp("string", 24),            // koa-router: the raw capture before decodeURIComponent
    temp(UNATTRIBUTED, HANDSHAKE_UNATTRIBUTED),
];

/// The calibration object of the setup. The real fixed server allocated 129,150 B per connection (272 MB, less
/// the idle server's 13.7 MB, over 2,000 connections held 1 s at `TICK_MS=10`). The tables itemize 91,449 B of it:
/// the connection's 5,256 B, 1,376 B of handshake temporaries, 600 B for the first message, 1,136 B at close, and
/// 99 ticks while open at 839 B on average. This object is the rest. The test
/// `a_connection_allocates_what_the_fixed_run_did` checks the total.
pub const HANDSHAKE_UNATTRIBUTED: u32 = 37_704;

/// Temporaries of receiving the client's first message (`ws.send(JSON.stringify({hello: 'browser', id}))`).
pub const FIRST_MESSAGE: &[Temporary] = &[
    temp("ArrayBuffer", 88), // node:net: the chunk read from the socket
    temp("Buffer", 96),      // node:net: its Buffer view
    temp("Buffer", 96),      // ws: Receiver.consume() views: the frame header ...
    temp("Buffer", 96),      // ... the rest of the chunk ...
    temp("Buffer", 96),      // ... the mask ...
    temp("Buffer", 96),      // ... and the payload
    temp("Array", 32),       // ws: receiver._fragments = [] after the message
];

/// Temporaries of closing: receiving the client's close frame (the chunk's ArrayBuffer survives as the reason's
/// backing store, see [`CONNECTION`]), answering it, ending the socket and emitting `close`.
pub const CLOSE: &[Temporary] = &[
    temp("Buffer", 96),            // node:net: the chunk's Buffer view
    temp("Buffer", 96),            // ws: Receiver.consume() views: header ...
    temp("Buffer", 96),            // ... mask ...
    temp("Buffer", 96),            // ... payload
    temp("Buffer", 96),            // ws: Sender.close(): Buffer.allocUnsafe(2 + reason)
    temp("Object", 88),            // ws: the close frame's options
    temp("Buffer", 96),            // ws: Sender.frame(): the frame header
    temp("Array", 32),             // ws: [header, data] ...
    temp("(object elements)", 32), // ... and its elements
    temp("Object", 48),            // node:stream: the corked write entries
    temp("Object", 48),
    temp("WriteWrap", 112), // node:net: the write request
    temp("Object", 56),     // node: process.nextTick(resume, socket)
    temp("Array", 32),      // ... its arguments
    temp("Object", 56),     // node:stream: end(), 'finish' and 'close' bookkeeping
    temp("Object", 56),
];

/// What a tick allocates before deciding whether to send: `let n = Math.random()`, a HeapNumber.
pub const RANDOM_NUMBER: Temporary = temp("heap number", 16);
/// The message object `{id: ctx.params.id, n}`: a JSObject with two in-object properties.
pub const MESSAGE_OBJECT: Temporary = temp("Object", 40);
/// The kind of `JSON.stringify`'s result, a one-byte string of 16 B plus its characters (see [`json_string_size`]).
pub const JSON_STRING_KIND: &str = "string";

/// The calibration object of a send: per `ws.send`, the bytes the real server allocates beyond the itemized
/// temporaries. The leaky server allocated about 285 B per timer tick after close (6.25 GB less the fixed run's
/// 272 MB over the 21.0 M ticks that ran after close; README: "about 296 B per timer tick" counting every
/// allocation). With 30 % of ticks not sending (16 B each), a send after close costs 400 B, of which the heap
/// number, the message, the JSON string and sendAfterClose's Buffer itemize 208 B.
pub const SEND_UNATTRIBUTED: Temporary = temp(UNATTRIBUTED, 192);

/// `ws.send` after close goes through `sendAfterClose`, whose `toBuffer(data)` is `Buffer.from(string)`: a view
/// of Buffer's 8 KiB pool, dropped at once.
pub const SEND_AFTER_CLOSE: &[Temporary] = &[temp("Buffer", 96)];

/// `ws.send` on an open connection: ws builds the frame and Node's stream writes it (`cork`, two `write`s,
/// `uncork`, `writev`).
pub const SEND_OPEN: &[Temporary] = &[
    temp("Object", 56),            // ws: send()'s options {binary, mask, compress, fin}
    temp("Object", 88),            // ws: Sender.send()'s frame options
    temp("Buffer", 96),            // ws: Sender.frame(): Buffer.allocUnsafe(2), the frame header
    temp("Array", 32),             // ws: [header, data] ...
    temp("(object elements)", 32), // ... and its elements
    temp("Object", 48),            // node:stream: the corked write entries {chunk, encoding, callback}
    temp("Object", 48),
    temp("Array", 32),              // node:stream: state.buffered = [] after uncork ...
    temp("(object elements)", 152), // ... grown by the next push
    temp("Array", 32),              // node:net: writevGeneric's chunks ...
    temp("(object elements)", 48),  // ... and their elements
    temp("WriteWrap", 112),         // node:net: the write request
    temp("Object", 56),             // node:stream: afterWriteTickInfo ...
    temp("Object", 56),             // ... and its process.nextTick entry
];

/// `Math.random()` values above this send a message (`if (n > 0.3)`).
pub const SEND_THRESHOLD: f64 = 0.3;

/// The size of the one-byte string `JSON.stringify({id, n})`: `{"id":"<id>","n":<n>}`, 16 B of header plus one
/// byte per character (the heap rounds it up to 8). `n` prints as JavaScript prints it: the shortest digits that
/// read back to the same double, which is what Rust's `Display` for `f64` gives for values in (0.3, 1).
pub fn json_string_size(id: u32, n: f64) -> u32 {
    use std::fmt::Write;

    /// Counts the bytes written to it instead of storing them.
    struct Length(usize);
    impl Write for Length {
        fn write_str(&mut self, s: &str) -> std::fmt::Result {
            self.0 += s.len();
            Ok(())
        }
    }

    let mut length = Length(0);
    write!(length, r#"{{"id":"{id}","n":{n}}}"#).expect("counting cannot fail");
    16 + u32::try_from(length.0).expect("a short string")
}
