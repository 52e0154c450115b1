/* vango-actors browser runtime. Hand-written, no dependencies, no build step (ES2017).
 *
 * One binary msgpack WebSocket per tab: DOM events go out as EVENT frames, PATCHES frames
 * come back and change the DOM by hydration id (data-hid="h12"). The wire format is
 * docs/PROTOCOL.md; the constants below must equal vango_actors/protocol.py (a test parses
 * them). Served unminified in dev mode, minified (rjsmin) in production.
 */
(() => {
  'use strict';
  if (window.vango) return; // loaded twice: keep the first runtime

  // ------------------------------------------------------------------ wire constants
  const F = {HELLO: 1, WELCOME: 2, EVENT: 3, PATCHES: 4, PING: 5, PONG: 6, ERROR: 7, RELOAD: 8, GOAWAY: 9};
  const O = {TEXT: 0, SET_ATTR: 1, REMOVE_ATTR: 2, SET_PROP: 3, INSERT: 4, REMOVE: 5, MOVE: 6, REPLACE: 7, PUSH_URL: 8, TITLE: 9, FOCUS: 10, REDIRECT: 11, TOKEN: 12, CALL: 13};
  /* Error and close codes ship in the source for the constants check and are stripped from
     the minified build: ERROR frames are logged, not acted on, and the four close codes the
     client acts on are written as numbers where they are used (closed()).
  const E = {PROTOCOL: 1, TOO_BIG: 2, BAD_TOKEN: 3, BAD_ORIGIN: 4, NO_SESSION: 5, UNKNOWN_TARGET: 6, RATE_LIMITED: 7, COMPONENT_CRASHED: 8, INTERNAL: 9, BUSY: 10, UNSUPPORTED_VERSION: 11};
  const C = {NORMAL: 1000, GOING_AWAY: 1001, PROTOCOL_ERROR: 1002, UNSUPPORTED_DATA: 1003, POLICY_VIOLATION: 1008, TOO_BIG: 1009, INTERNAL_ERROR: 1011, SESSION_GONE: 4001, REPLACED: 4002, IDLE_TIMEOUT: 4003}; */
  const VERSION = 1;
  // Op arity including the op code: a shape check runs over a whole batch before any op applies.
  const ARITY = [4, 4, 3, 4, 4, 3, 4, 3, 3, 2, 2, 2, 2, 3];
  const PROPS = ['value', 'checked', 'selected'];

  // ------------------------------------------------------------------ msgpack (subset)
  const te = new TextEncoder(), td = new TextDecoder();
  // maps without a prototype: a key "__proto__" (a form field, say) stays an ordinary key
  const obj = () => Object.create(null);

  /** Decode one msgpack value from bytes; throws on truncated or unsupported input. */
  function decode(u8) {
    const dv = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
    let i = 0;
    const need = (n) => { if (i + n > u8.length) throw Error('msgpack: short'); i += n; return i - n; },
      // big-endian integer of n bytes; signed ones are read as -(~x) - 1 to stay exact up to 2^53
      num = (n, signed) => {
        let j = need(n), x = 0;
        const m = signed && u8[j] > 127 ? 255 : 0;
        while (n--) x = x * 256 + (u8[j++] ^ m);
        if (m) x = -x - 1;
        if (!Number.isSafeInteger(x)) throw Error('msgpack: int > 2^53');
        return x;
      },
      str = (n) => td.decode(u8.subarray(need(n), i)),
      arr = (n) => { const a = []; while (n--) a.push(val()); return a; },
      map = (n) => { const o = obj(); while (n--) { const k = val(); o[k] = val(); } return o; };
    function val() {
      const b = u8[need(1)],
        at = (lo, hi) => b >= lo && b <= hi;
      if (b < 0x80) return b; // positive fixint
      if (b < 0x90) return map(b & 15);
      if (b < 0xa0) return arr(b & 15);
      if (b < 0xc0) return str(b & 31);
      if (b >= 0xe0) return b - 256; // negative fixint
      if (b === 0xc0) return null;
      if (at(0xc2, 0xc3)) return b === 0xc3;
      if (at(0xc4, 0xc6)) { const n = num(1 << (b - 0xc4)); return u8.slice(need(n), i); } // bin
      if (b === 0xca) return dv.getFloat32(need(4));
      if (b === 0xcb) return dv.getFloat64(need(8));
      if (at(0xcc, 0xcf)) return num(1 << (b - 0xcc)); // uint 8..64
      if (at(0xd0, 0xd3)) return num(1 << (b - 0xd0), 1); // int 8..64
      if (at(0xd9, 0xdb)) return str(num(1 << (b - 0xd9)));
      if (at(0xdc, 0xdd)) return arr(num(2 << (b - 0xdc)));
      if (at(0xde, 0xdf)) return map(num(2 << (b - 0xde)));
      throw Error('msgpack: byte ' + b);
    }
    const v = val();
    if (i !== u8.length) throw Error('msgpack: trailing');
    return v;
  }

  /** Encode a value to msgpack, choosing the same (smallest) formats as msgpack-python. */
  function encode(v) {
    const out = [],
      // n bytes of x, big-endian two's complement (exact for safe integers)
      put = (n, x) => { while (n--) out.push(Math.floor(x / 2 ** (8 * n)) & 255); },
      bytes = (b) => { for (const c of b) out.push(c); },
      // length header: fix form below lim, else tag t8 (1 byte, if any), t16 (2) or t16 + 1 (4)
      head = (n, fix, lim, t8, t16) => {
        if (n < lim) out.push(fix | n);
        else if (t8 && n < 256) out.push(t8, n);
        else if (n < 65536) { out.push(t16); put(2, n); } else { out.push(t16 + 1); put(4, n); }
      },
      int = (n) => {
        if (n >= -32 && n < 128) return out.push(n & 255); // fixint
        const k = n > 0 ? (n < 256 ? 0 : n < 65536 ? 1 : n < 2 ** 32 ? 2 : 3) : (n >= -128 ? 0 : n >= -32768 ? 1 : n >= -(2 ** 31) ? 2 : 3);
        out.push((n > 0 ? 0xcc : 0xd0) + k);
        put(1 << k, n);
      };
    function val(x) {
      if (x == null) out.push(0xc0);
      else if (x === false || x === true) out.push(0xc2 + x);
      else if (Number.isSafeInteger(x)) int(x);
      else if (typeof x === 'number') { const b = new Uint8Array(8); new DataView(b.buffer).setFloat64(0, x); out.push(0xcb); bytes(b); }
      else if (typeof x === 'string') { const b = te.encode(x); head(b.length, 0xa0, 32, 0xd9, 0xda); bytes(b); }
      else if (x instanceof Uint8Array) { head(x.length, 0, 0, 0xc4, 0xc5); bytes(x); }
      else if (Array.isArray(x)) { head(x.length, 0x90, 16, 0, 0xdc); x.forEach((y) => val(y)); }
      else if (typeof x === 'object') {
        const ks = Object.keys(x);
        head(ks.length, 0x80, 16, 0, 0xde);
        for (const k of ks) { val(k); val(x[k]); }
      } else throw Error('msgpack: type ' + typeof x);
    }
    val(v);
    return new Uint8Array(out);
  }

  // ------------------------------------------------------------------ state
  const doc = document, html = doc.documentElement;
  let root = null, sid = '', token = '', liveUrl = '',
    ws = null,          // current transport: a WebSocket, or a test transport from _attach
    connected = false,  // WELCOME received on ws
    stopped = false,    // the server refused us for good (replaced, policy): no reconnect
    lastSeq = 0,        // last PATCHES seq applied
    eventSeq = 0,       // last event seq handed out (kept in sessionStorage per session)
    sentSeq = 0,        // highest event seq written to any socket
    heartbeat = 4000,   // ms, from WELCOME; liveness timeout is 2.5x
    tries = 0, retryTimer = 0, liveTimer = 0,
    broken = false,     // a batch failed to apply once: the next failure reloads the page
    latency = 0,        // simulated one-way delay (ms), see enableLatencySim
    hold = 0,           // remount: events wait until the resync applied (form recovery)
    met = 0,            // a WELCOME came: a later non-resumed one is a remount
    applying = 0,       // a batch is being applied: DOM events it fires are not the user's
    comp;               // the element an IME composition is in: its value is the IME's
  const Q = [],           // unacknowledged events {s: seq, h: hid, t: type, p: payload, e: element, sent, n: bytes}
    pend = new Set(), // debounced / throttled events waiting {e, t, p, timer}
    lastFire = new WeakMap(), // element -> {type: ms} for throttle
    waiters = [],     // _whenIdle resolvers
    touched = new Set(); // form controls the user typed into / changed (form recovery)
  // Optional parts (vango.rich.js: navigation, hooks, commands, uploads) plug in here:
  // X.call(name, args) runs CALL ops (ignored without it), X.sent(q) / X.done(q) see events go out / get acked,
  // X.url(url, replace) applies PUSH_URL (history and scroll).
  const X = {};

  const store = (k, v) => { try { if (v === undefined) return sessionStorage.getItem(k); sessionStorage.setItem(k, v); } catch (_) { /* storage off */ } };

  // ------------------------------------------------------------------ patch applier
  const HID = 'data-hid', SVG = 'http://www.w3.org/2000/svg';
  let byHid = new Map();

  const hidOf = (e) => +e.getAttribute(HID).slice(1);
  function index(n) { // add an inserted node and its descendants to the hid map
    if (n.nodeType !== 1) return;
    if (n.hasAttribute(HID)) byHid.set(hidOf(n), n);
    for (const e of n.querySelectorAll('[data-hid]')) byHid.set(hidOf(e), e);
  }
  function reindex() { byHid = new Map(); index(root); byHid.set(0, root); }
  /** The live element with hydration id h; the map is rebuilt when it misses or is stale. */
  function node(h) {
    let e = byHid.get(h);
    if (!e || !e.isConnected) { reindex(); e = byHid.get(h); }
    if (!e) throw Error('no element with hid ' + h);
    return e;
  }
  /** Parse server HTML into a fragment fit for parent p (SVG children parse inside <svg>). */
  function parse(p, markup) {
    const t = doc.createElement('template'),
      svg = p.namespaceURI === SVG && p.localName !== 'foreignObject';
    t.innerHTML = svg ? '<svg>' + markup + '</svg>' : markup;
    if (!svg) return t.content;
    const f = doc.createDocumentFragment();
    f.append(...t.content.firstChild.childNodes);
    return f;
  }
  function insert(p, f, before) {
    const nodes = [...f.childNodes];
    p.insertBefore(f, before);
    nodes.forEach(index);
  }
  const child = (p, i, end) => {
    if (!Number.isInteger(i) || i < 0 || i > p.childNodes.length - (end ? 0 : 1)) throw Error('index ' + i + ' out of range');
    return p.childNodes[i] || null;
  };
  // Select a..b in e (clamped to its value); elements without a selection ignore it.
  const select = (e, a, b) => { const n = (e.value || '').length; try { e.setSelectionRange(Math.min(a, n), Math.min(b, n)); } catch (_) { /* none */ } };
  // A control with an input or change event (its own, or its radio group's: same name) the
  // server has not acknowledged yet: a value or checked echo is older than the user's act.
  const typing = (e) => e === comp || [...Q, ...pend].some((q) => (q.e === e || e.name && q.e.name === e.name) && (q.t == 'input' || q.t == 'change'));

  function setProp(e, k, v) {
    if (!PROPS.includes(k)) throw Error('SET_PROP ' + k);
    if (typing(e)) return;
    if (k !== 'value' || e !== doc.activeElement) { e[k] = v; return; }
    const a = e.selectionStart, b = e.selectionEnd;
    e.value = v;
    if (a != null) select(e, a, b);
  }

  // A server's readonly on a field the submit lock made read-only (c.vr) is the server's now:
  // the lock's release leaves it as it is.
  const mine = (e, k) => { if (k === 'readonly') e.vr = 0; return e; };

  function op(o) {
    let p, e;
    switch (o[0]) {
      case O.TEXT:
        e = child(node(o[1]), o[2]);
        if (e.nodeType !== 3) throw Error('TEXT: node ' + o[2] + ' is not text');
        e.data = o[3];
        break;
      case O.SET_ATTR: mine(node(o[1]), o[2]).setAttribute(o[2], o[3]); break;
      case O.REMOVE_ATTR: mine(node(o[1]), o[2]).removeAttribute(o[2]); break;
      case O.SET_PROP: setProp(node(o[1]), o[2], o[3]); break;
      case O.INSERT: p = node(o[1]); insert(p, parse(p, o[3]), child(p, o[2], 1)); break;
      case O.REMOVE: child(node(o[1]), o[2]).remove(); break;
      case O.MOVE:
        p = node(o[1]); e = node(o[2]);
        if (e.parentNode !== p) throw Error('MOVE: ' + o[2] + ' not in ' + o[1]);
        e.remove();
        p.insertBefore(e, child(p, o[3], 1));
        break;
      case O.REPLACE:
        if (o[1] === 0) { root.replaceChildren(parse(root, o[2])); reindex(); break; }
        e = node(o[1]); p = e.parentNode;
        insert(p, parse(p, o[2]), e);
        e.remove();
        break;
      case O.PUSH_URL: X.url ? X.url(o[1], o[2]) : history[o[2] ? 'replaceState' : 'pushState'](null, '', o[1]); break;
      case O.TITLE: doc.title = o[1]; break;
      case O.FOCUS: e = node(o[1]); e.focus(); select(e, 1e9, 1e9); break; // caret at the end
      case O.REDIRECT: location.assign(o[1]); break;
      case O.TOKEN: token = o[1]; break;
      case O.CALL: if (X.call) X.call(o[1], o[2]); break; // no vango.rich.js: ignored
    }
  }

  /** Apply a batch of ops in order; throws (before touching the DOM) on a malformed op. */
  function apply(ops) {
    for (const o of ops) {
      if (!Array.isArray(o) || ARITY[o[0]] !== o.length) throw Error('malformed op ' + JSON.stringify(o));
    }
    const f = doc.activeElement, keep = f && f !== doc.body && root && root.contains(f),
      fh = keep && f.getAttribute(HID), fid = keep && f.id,
      a = keep && f.selectionStart, b = keep && f.selectionEnd;
    applying = 1;
    try {
      ops.forEach(op);
      // A REPLACE or MOVE that detached the focused element: focus its successor (same hid / id).
      if (keep && (doc.activeElement === doc.body || !doc.activeElement)) {
        const g = (fh && root.querySelector('[data-hid="' + fh + '"]')) || (fid && doc.getElementById(fid));
        if (g) { g.focus(); if (a != null) select(g, a, b); }
      }
    } finally { applying = 0; }
  }

  // ------------------------------------------------------------------ connection
  function classes() {
    for (const e of [root, html]) {
      if (!e) continue;
      e.classList.toggle('vango-connected', connected);
      e.classList.toggle('vango-disconnected', !connected && !stopped);
      e.classList.toggle('vango-error', stopped);
    }
  }

  /** Run fn now, or after the simulated latency (enableLatencySim). */
  const lag = (fn) => latency ? setTimeout(fn, latency) : fn();

  function send(s, frame) {
    const bytes = encode(frame);
    lag(() => { try { s.send(bytes); } catch (_) { /* closing: unacked events are re-sent */ } });
    return bytes.length;
  }

  function connect() {
    clearTimeout(retryTimer);
    if (stopped || !sid) return; // no session on this page (tests, static pages): stay offline
    const url = liveUrl || (location.protocol === 'https:' ? 'wss://' : 'ws://') + location.host + '/vango/live/' + sid;
    let s;
    try { s = new WebSocket(url); } catch (err) { console.error('vango: cannot open', url, err); return retry(); }
    s.binaryType = 'arraybuffer';
    ws = s;
    s.onopen = () => opened(s);
    s.onmessage = (m) => receive(s, new Uint8Array(m.data));
    s.onclose = (c) => closed(s, c.code);
  }

  function opened(s) {
    if (s !== ws) return;
    alive();
    send(s, [F.HELLO, VERSION, sid, token, lastSeq, sentSeq, location.href]);
  }

  function closed(s, code) {
    if (s !== ws) return;
    ws = null;
    connected = false;
    if (code === 1009) { // C.TOO_BIG: the server refused our biggest message in flight: it is lost (PROTOCOL 8)
      const q = Q.filter((r) => r.sent).sort((a, b) => b.n - a.n)[0];
      if (q) { Q.splice(Q.indexOf(q), 1); settle(q); } // (the ERROR before the close said why)
    }
    for (const q of Q) q.sent = false;
    clearTimeout(liveTimer);
    if (code === 4001) return location.reload(); // C.SESSION_GONE
    if (code === 4002 || code === 1008) { stopped = true; console.warn('vango: refused, close code', code); } // C.REPLACED, C.POLICY_VIOLATION
    classes();
    retry();
  }

  function retry(ms) {
    clearTimeout(retryTimer);
    if (stopped) return;
    // exponential backoff 100 ms .. 5 s, +-50% jitter
    const base = ms || Math.min(5000, 100 * 2 ** tries++);
    retryTimer = setTimeout(connect, base * (0.5 + Math.random()));
  }

  /** Drop the current socket (gap, liveness, GOAWAY, bad frame) and reconnect after ms. */
  function drop(ms) {
    const s = ws;
    closed(s, 0);
    if (ms) retry(ms);
    try { s.close(); } catch (_) { /* already closed */ }
  }

  function alive() { // no frame for 2.5 heartbeats: the link is dead even if TCP has not noticed
    clearTimeout(liveTimer);
    if (heartbeat > 0) liveTimer = setTimeout(drop, 2.5 * heartbeat);
  }

  const receive = (s, u8) => lag(() => handle(s, u8));

  function handle(s, u8) {
    if (s !== ws) return; // frame from a socket we already gave up on
    let f;
    try {
      f = decode(u8);
      if (!Array.isArray(f)) throw Error('frame is not a list');
    } catch (err) { console.error('vango: bad frame', err); return drop(); }
    alive();
    switch (f[0]) {
      case F.WELCOME: welcome(f); break;
      case F.PATCHES: patches(f); break;
      case F.PING: send(s, [F.PONG, f[1]]); break;
      case F.ERROR: error(f[1], f[2]); break;
      case F.RELOAD: location.reload(); break;
      case F.GOAWAY: drop(100 + Math.random() * 900); break;
    }
    idle();
  }

  function welcome(f) { // [2, version, seq, ack, heartbeat_ms, resumed]
    connected = true;
    tries = 0;
    heartbeat = f[4];
    // Fresh or remounted session: its seqs start over. min(): a session first claimed after
    // the page rendered replays what it sent while parked, and those frames must apply.
    // After a frame or a WELCOME it is a remount (state lost): a resync follows; events wait.
    touched.forEach((e) => e.isConnected || touched.delete(e));
    hold = !f[5] && (lastSeq || met);
    met = 1;
    if (!f[5]) lastSeq = Math.min(lastSeq, f[2]);
    // An ack past what this page sent: a copy of the page (same HTML, same session) used the
    // session. New events and ours never sent number on from it, or they count as duplicates.
    if (f[3] > eventSeq) eventSeq = f[3];
    if (f[3] > sentSeq) for (const q of Q) if (q.s > sentSeq) q.s = ++eventSeq;
    ack(f[3]);
    if (!hold) for (const q of Q) emit(q);
    classes();
    alive();
  }

  function patches(f) { // [4, seq, ack, ops]
    const seq = f[1], first = (Array.isArray(f[3]) && f[3][0]) || [], resync = first[0] === O.REPLACE && first[1] === 0,
      // form recovery: after a remount's resync (held events), or when the first PATCHES this
      // page applies is a resync (a remount of a page that had none yet: nothing was held)
      again = hold || !lastSeq && resync;
    if (seq <= lastSeq) return; // duplicate of a replay
    // a lost frame: reconnect to get it replayed, unless this is a self-contained resync
    if (seq > lastSeq + 1 && !resync) return drop();
    ack(f[2]); // first: an input echo answering the last acked event is not stale
    try { apply(f[3]); } catch (err) {
      console.error('vango: bad patches', seq, err);
      if (broken) return location.reload(); // the resync after the first failure did not help
      broken = true;
      lastSeq = 0; // our DOM is not trustworthy: ask for everything (the server resyncs)
      return drop();
    }
    lastSeq = seq;
    if (again) recover();
  }

  /** Form recovery after a remount's resync: restore what the user typed into the new DOM
   * and send it as input/change events, then the queued events, each on its element's twin:
   * the element of the same tag with the same id. A remount renders today's data with fresh
   * hids, so a hid may now be another row's: an element without an id has no sure twin, and
   * its draft or event is not replayed (warned) rather than sent to the wrong record. Forms
   * need ids for recovery in LiveView too. */
  function recover() {
    const old = hold ? Q.splice(0) : [], lost = (t) => console.warn('vango: not replayed after a remount (no id)', t),
      twin = (e) => { const n = e.id && doc.getElementById(e.id); return n && n.tagName === e.tagName && n; };
    hold = 0;
    for (const e of [...touched]) {
      const n = twin(e);
      let t = 'input', b;
      touched.delete(e);
      if (!n) { lost('draft'); continue; }
      n.value = e.value; n.checked = e.checked; touched.add(n);
      if (n.options) for (const o of n.options) o.selected = [...e.selectedOptions].some((x) => x.value === o.value); // every choice of a multi-select
      if ((b = bound(n, t) || bound(n, t = 'change'))) push(b, t, payload({target: n}, b, t));
    }
    for (const q of old) { const n = twin(q.e); n ? push(n, q.t, q.p) : lost(q.t); }
  }

  function error(code, message) {
    console.warn('vango: server error', code, message);
    // for the page (the dev overlay listens): every ERROR but UNKNOWN_TARGET, mostly a
    // benign race (a second click on a row a first one deleted) that the console has
    if (code !== 6) doc.dispatchEvent(new CustomEvent('vango:error', {detail: {code, message}}));
  }

  // ------------------------------------------------------------------ events out
  function emit(q) {
    q.sent = true;
    if (q.s > sentSeq) sentSeq = q.s;
    q.n = send(ws, [F.EVENT, q.s, q.h, q.t, q.p]);
  }

  /** Queue an event (it gets the next seq) and send it now when connected. */
  function push(e, t, p) {
    const last = Q[Q.length - 1];
    if (!connected && last && !last.sent && last.e === e && last.t === 'input' && t === 'input') { last.p = p; return; }
    // at most 1000 unacknowledged events: past it new ones are dropped (warned)
    if (Q.length >= 1000) { console.warn('vango: queue full, dropped', t); return; }
    const q = {s: ++eventSeq, h: hidOf(e), t, p, e, sent: false};
    // a submitting form's text inputs are read-only until it is answered (as in LiveView):
    // keys typed meanwhile would be wiped by the answer
    if (t === 'submit') q.r = [...(e.elements || [])].filter((c) => /^(INPUT|TEXTAREA)$/.test(c.tagName) && !c.readOnly && (c.readOnly = c.vr = true));
    store('vango.seq.' + sid, eventSeq);
    Q.push(q);
    e.classList.add('vango-loading', 'vango-' + t + '-loading');
    if (X.sent) X.sent(q);
    if (connected && !hold) emit(q);
  }

  /** The server handled every event up to seq n: forget them, clear loading classes. */
  function ack(n) {
    while (Q[0] && Q[0].s <= n) settle(Q.shift());
  }

  /** q left the queue (acknowledged or dropped): its loading classes go with the last of its kind. */
  function settle(q) {
    if (X.done) X.done(q);
    if (q.r) q.r.forEach((c) => { if (c.vr) c.readOnly = c.vr = false; });
    if (!Q.some((r) => r.e === q.e && r.t === q.t)) q.e.classList.remove('vango-' + q.t + '-loading');
    if (!Q.some((r) => r.e === q.e)) q.e.classList.remove('vango-loading');
  }

  /** Send waiting debounced/throttled events now: those of e or its ancestors, or all. */
  function flush(e) {
    for (const q of pend) {
      if (e && !q.e.contains(e)) continue;
      clearTimeout(q.timer);
      pend.delete(q);
      push(q.e, q.t, q.p);
    }
  }

  function later(e, t, p, ms) {
    let q = [...pend].find((r) => r.e === e && r.t === t);
    if (!q) pend.add(q = {e, t});
    q.p = p;
    clearTimeout(q.timer);
    q.timer = setTimeout(() => { pend.delete(q); stamp(e, t); push(e, t, q.p); idle(); }, ms);
  }

  function stamp(e, t) { let m = lastFire.get(e); if (!m) lastFire.set(e, m = {}); m[t] = Date.now(); }

  /** Route an event through the element's data-debounce / data-throttle, then queue it. */
  function fire(e, t, p) {
    const d = +e.getAttribute('data-debounce'), th = +e.getAttribute('data-throttle'),
      instant = t === 'submit' || t === 'focus' || t === 'blur';
    if (d > 0 && !instant) return later(e, t, p, d);
    if (th > 0 && !instant) {
      const wait = ((lastFire.get(e) || {})[t] || 0) + th - Date.now();
      if (wait > 0 || [...pend].some((r) => r.e === e && r.t === t)) return later(e, t, p, Math.max(wait, 0));
      stamp(e, t);
    }
    push(e, t, p);
  }

  const isControl = (e) => /^(INPUT|SELECT|TEXTAREA)$/.test(e.tagName);

  /** Form values by name; names of multi-selects and checkbox groups are always lists. */
  function formValues(form, submitter) {
    const o = obj(), boxes = obj();
    for (const c of form.elements) {
      if (!c.name) continue;
      if (c.type === 'select-multiple') o[c.name] = [];
      if (c.type === 'checkbox') boxes[c.name] = (boxes[c.name] || 0) + 1;
    }
    for (const k in boxes) if (boxes[k] > 1) o[k] = [];
    let fd;
    try { fd = new FormData(form, submitter); } catch (_) { fd = new FormData(form); }
    for (const [k, v] of fd) {
      const s = typeof v === 'string' ? v : v.name;
      if (Array.isArray(o[k])) o[k].push(s);
      else if (k in o) o[k] = [o[k], s];
      else o[k] = s;
    }
    return o;
  }

  function payload(ev, b, t) {
    const src = isControl(b) ? b : ev.target, // container bindings report the control that fired
      p = {};
    if (t === 'submit') { p.form = formValues(ev.target, ev.submitter); return p; }
    if (t === 'keydown' || t === 'keyup') p.key = ev.key;
    if (t === 'input' || t === 'change') {
      p.value = src.value == null ? '' : String(src.value);
      if (src.type === 'checkbox' || src.type === 'radio') p.checked = src.checked;
      if (src.type === 'select-multiple') p.values = [...src.selectedOptions].map((o) => o.value);
    } else if (isControl(src) && (src === b || t !== 'click')) p.value = src.value;
    return p;
  }

  /** Nearest ancestor-or-self with a hydration id whose data-on lists type t. */
  function bound(x, t) {
    for (; x && x.getAttribute; x = x.parentElement) {
      const on = x.getAttribute('data-on');
      if (on && x.hasAttribute(HID) && on.split(/\s+/).includes(t)) return x;
    }
    return null;
  }

  const SUBMITS = 'a[href],button:not([type]),button[type=submit],input[type=submit],input[type=image]',
    DOM_TYPES = 'click dblclick input change submit keydown keyup focusin focusout'.split(' '),
    ALIAS = {focusin: 'focus', focusout: 'blur'};

  function onEvent(ev, t) {
    let x = ev.target;
    if (x && x.nodeType !== 1) x = x.parentElement;
    if (!x) return;
    // typing is over: debounced events of this element (or all, on submit) go out first, in order
    if (t === 'submit') flush();
    else if (t === 'blur' || (t === 'keydown' && ev.key === 'Enter')) flush(x);
    // (a file input cannot be given a value back: form recovery leaves it out)
    if ((t === 'input' || t === 'change') && isControl(x) && x.type !== 'file') touched.add(x);
    const b = bound(x, t);
    if (!b || applying) return; // fired by a patch (a blur as it removes the focused element): no user act
    if (t === 'submit' || (t === 'click' && b.matches(SUBMITS))) ev.preventDefault();
    // a form whose submit is in flight takes no second one (a double Enter: a todo added twice)
    if (t === 'submit' && Q.some((q) => q.e === b && q.r)) return;
    const keys = b.getAttribute('data-keys');
    if (keys && (t === 'keydown' || t === 'keyup') && !keys.split(' ').includes(ev.key)) return;
    fire(b, t, payload(ev, b, t));
    idle();
  }

  // ------------------------------------------------------------------ test hooks and boot
  function idle() { if (connected && !Q.length && !pend.size) waiters.splice(0).forEach((r) => r()); }

  function enableLatencySim(ms) {
    latency = Math.max(0, +ms || 0);
    store('vango.latency', latency);
  }

  window.vango = {
    get state() { return {connected, lastSeq, eventSeq, pending: Q.length + pend.size}; },
    enableLatencySim,
    _decode: decode,
    _encode: encode,
    _apply: apply,
    _whenIdle: () => new Promise((r) => { waiters.push(r); idle(); }),
    /** Test transport: frames this client sends go to fn(Uint8Array); feed replies with _recv. */
    _attach(fn) { const s = {send: fn, close(c) { closed(s, c); }}; ws = s; opened(s); return s; },
    _recv: (u8) => handle(ws, u8),
    /** For vango.rich.js only: queue an event, look up hids, plug in. */
    _x: {push, idle, X},
  };

  function boot() {
    root = doc.querySelector('[data-vango-root]');
    for (const k of DOM_TYPES) doc.addEventListener(k, (ev) => onEvent(ev, ALIAS[k] || k), true);
    doc.addEventListener('compositionstart', (ev) => (comp = ev.target), true);
    doc.addEventListener('compositionend', () => (comp = 0), true);
    latency = +store('vango.latency') || 0;
    if (!root) return;
    const d = root.dataset;
    sid = d.vangoSession || '';
    token = d.vangoToken || '';
    liveUrl = d.vangoLive || '';
    eventSeq = +store('vango.seq.' + sid) || 0;
    sentSeq = eventSeq;
    reindex();
    connect();
  }
  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', boot); else boot();
})();
