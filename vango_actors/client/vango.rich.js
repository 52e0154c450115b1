/* vango-actors optional client script: live navigation links, JS hooks, client commands,
 * loading helpers (data-disable-with, read-only forms). Loaded after vango.js, only on pages
 * that use these; plugs into the core through vango._x.
 * See docs/guides/interaction.md.
 */
(() => {
  'use strict';
  const V = window.vango;
  if (!V || !V._x || V._x.X.call) return; // no core, or loaded twice
  const {push, idle, X} = V._x;
  const doc = document, root = doc.querySelector('[data-vango-root]');
  if (!root) return;

  // ---------------------------------------------------------------- live navigation
  // EVENT [3, seq, 0, "nav", {url, replace, pop}]: the server patches or remounts the page.
  // History as a browser keeps it (X.url applies the server's PUSH_URL): a push to another
  // path scrolls to the top, or to its #fragment's target; Back/Forward restore the place
  // each vango entry (state {vango: id}) was left at, once the server answered; a link to the
  // URL shown replaces it; a #fragment alone is the browser's (no round trip), and so are
  // entries the page's own scripts push (their state is not vango's): left alone.
  const H = history, page = () => location.pathname + location.search, here = () => page() + location.hash;
  const ys = new Map(), id = () => Math.random().toString(36).slice(2), mine = (s) => s != null && s.vango != null;
  if (H.state == null) H.replaceState({vango: id()}, '');
  let shown = page(), y = scrollY, cur = mine(H.state) ? H.state.vango : null, navs = 0;
  // After Back/Forward the URL shown is the browser's: a PUSH_URL answering an event sent
  // before it (a push_patch's, say) would land on the entry reached. popAt: the first event
  // seq after the last pop; acked: the last event answered (X.done runs before a frame's ops).
  let popAt = 0, acked = 0;
  addEventListener('scroll', () => { y = scrollY; }, {passive: true}); // (a patch's clamp comes later)
  X.url = (u, replace) => {
    if (acked < popAt) return; // answers an event sent before the last Back/Forward
    const from = location.pathname;
    if (replace) H.replaceState(H.state, '', u);
    else {
      if (cur != null) ys.set(cur, y);
      H.pushState({vango: cur = id()}, '', u);
      navs++;
      queueMicrotask(() => { // once the batch is applied
        let e;
        try { e = location.hash && doc.getElementById(decodeURIComponent(location.hash.slice(1))); } catch (_) { /* a bad %-escape */ }
        if (e) e.scrollIntoView(); else if (location.pathname !== from) scrollTo(0, 0);
      });
    }
    shown = page();
  };
  function nav(url, replace, pop) { push(root, 'nav', {url, replace: !!replace, pop: !!pop}); idle(); }
  doc.addEventListener('click', (ev) => {
    const a = ev.target.closest && ev.target.closest('a[data-vango-nav]');
    if (!a || a.hasAttribute('download') || ev.defaultPrevented || ev.button || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const u = new URL(a.href, location.href);
    if (u.origin !== location.origin || (a.target && a.target !== '_self')) return;
    if (u.pathname + u.search === page() && u.hash) return; // a #fragment of this page: the browser's
    ev.preventDefault();
    y = scrollY; // (the scroll event of a scroll just made may come after the answer)
    nav(u.pathname + u.search + u.hash, a.getAttribute('data-vango-nav') === 'replace' || u.href === location.href);
  });
  addEventListener('popstate', (ev) => {
    const s = ev.state;
    popAt = V.state.eventSeq + 1; // (the nav event below, if any, gets this seq)
    if (cur != null) ys.set(cur, y); // the place the entry left was left at
    cur = mine(s) ? s.vango : null;
    if (page() === shown || (s != null && !mine(s))) return; // a #fragment, or the page's own entry
    shown = page();
    const at = mine(s) ? ys.get(s.vango) : undefined, my = ++navs;
    nav(here(), true, true);
    if (at != null) V._whenIdle().then(() => { if (my === navs) scrollTo(0, at); });
  });

  // ---------------------------------------------------------------- loading helpers
  // While an event is in flight, buttons with data-disable-with are disabled and relabelled
  // (the core makes a submitting form's inputs read-only). The core calls sent/done per event.
  const undo = new Map();
  const later = (q, f) => { if (!undo.has(q)) undo.set(q, []); undo.get(q).push(f); };
  X.sent = (q) => {
    const e = q.e;
    if (q.t !== 'submit' && q.t !== 'click') return;
    const btns = q.t === 'submit' ? [...e.querySelectorAll('[data-disable-with]')] : e.hasAttribute('data-disable-with') ? [e] : [];
    quiet(() => btns.forEach((b) => { // (the label's nodes come back: the server's patches address them)
      // an <input type=submit>'s label is its value attribute (none: the browser's "Submit")
      const kids = [...b.childNodes], was = b.disabled, inp = b.tagName === 'INPUT', v = b.getAttribute('value');
      if (inp) b.setAttribute('value', b.getAttribute('data-disable-with')); else b.textContent = b.getAttribute('data-disable-with');
      b.disabled = true;
      later(q, () => {
        if (!inp) b.replaceChildren(...kids); else if (v == null) b.removeAttribute('value'); else b.setAttribute('value', v);
        b.disabled = was;
      });
    }));
  };
  // (and the core's submit lock: released here, quietly, before the core would)
  X.done = (q) => {
    if (undo.has(q) || q.r) quiet(() => { (undo.get(q) || []).forEach((f) => f()); undo.delete(q); (q.r || []).forEach((c) => { if (c.vr) c.readOnly = c.vr = false; }); });
  };

  // ---------------------------------------------------------------- client commands
  // data-js-<event>='[["toggle", "#menu"], ["add_class", null, "open"]]': run on the event
  // with no round trip (null target: the element carrying the attribute). Also from the
  // server: CALL "exec" {cmds}.
  const CMD = {
    show: (e) => { e.hidden = false; },
    hide: (e) => { e.hidden = true; },
    toggle: (e) => { e.hidden = !e.hidden; },
    add_class: (e, c) => e.classList.add(...c.split(' ')),
    remove_class: (e, c) => e.classList.remove(...c.split(' ')),
    toggle_class: (e, c) => c.split(' ').forEach((k) => e.classList.toggle(k)),
    set_attr: (e, k, v) => { if (!/^on/i.test(k)) e.setAttribute(k, v); },
    remove_attr: (e, k) => e.removeAttribute(k),
    focus: (e) => e.focus(),
    dispatch: (e, name, detail) => e.dispatchEvent(new CustomEvent(name, {bubbles: true, detail})),
  };
  // A command that fails (unknown, a selector the browser cannot parse) is skipped, warned:
  // the rest of the chain runs, and a server's CALL "exec" never breaks its frame.
  function run(cmds, self) {
    quiet(() => cmds.forEach((c) => {
      try {
        const [name, sel, ...args] = c, f = CMD[name];
        if (!f) throw Error('unknown command');
        for (const e of sel == null ? (self ? [self] : []) : doc.querySelectorAll(sel)) f(e, ...args);
      } catch (err) { console.warn('vango: command', JSON.stringify(c), 'skipped:', err.message); }
    }));
  }
  const JS_TYPES = {click: 'click', dblclick: 'dblclick', input: 'input', change: 'change', submit: 'submit', keydown: 'keydown', keyup: 'keyup', focusin: 'focus', focusout: 'blur'};
  for (const k in JS_TYPES) {
    const attr = 'data-js-' + JS_TYPES[k];
    doc.addEventListener(k, (ev) => {
      const e = ev.target.closest && ev.target.closest('[' + attr + ']');
      if (!e) return;
      let cmds;
      try { cmds = JSON.parse(e.getAttribute(attr)); } catch (err) { return console.warn('vango: bad', attr, err); }
      if (k === 'submit' || (k === 'click' && e.matches('a[href="#"]'))) ev.preventDefault();
      run(cmds, e);
    }, true);
  }

  // ---------------------------------------------------------------- hooks
  // <div data-vango-hook="Chart"> + vango.hook("Chart", {mounted() {}, updated() {}, destroyed() {}})
  // (or window.vangoHooks = {Chart: {...}} before the scripts load). In callbacks: this.el,
  // this.pushEvent(name, payload) (EVENT "hook" on the element: bind it with on_hook=),
  // this.handleEvent(name, fn) (server push_event).
  const hooks = window.vangoHooks || {};
  const live = new Map(), named = new WeakMap(), handlers = {}; // element -> hook, hook -> its name
  const callback = (h, k) => { try { if (h[k]) h[k](); } catch (err) { console.error('vango: hook', k, err); } };
  function mount(e) {
    // (window.vangoHooks too: a page script run after a live navigation may assign a new object)
    const n = e.getAttribute('data-vango-hook'), d = hooks[n] || (window.vangoHooks || {})[n];
    if (!d || live.has(e)) return;
    const h = Object.create(d);
    h.el = e;
    h.pushEvent = (name, payload) => hookPush(e, String(name), payload || {});
    h.handleEvent = (name, fn) => (handlers[name] = handlers[name] || []).push([h, fn]);
    live.set(e, h);
    named.set(h, n);
    callback(h, 'mounted');
    return h;
  }
  // A hook in a stream item (no hids there) sends EVENT "stream" {event, key, payload} on
  // the item's container, as data-stream-click does.
  function hookPush(e, event, payload) {
    const it = e.closest('[data-stream-key]'), b = it && it.parentElement;
    if (e.hasAttribute('data-hid')) push(e, 'hook', {event, payload});
    else if (b && b.hasAttribute('data-hid')) push(b, 'stream', {event, key: it.getAttribute('data-stream-key'), payload});
    else return console.warn('vango: pushEvent from an element without data-hid', event);
    idle();
  }
  function scan() {
    for (const [e, h] of live) { // gone, or given another hook name (or none): destroyed
      if (e.isConnected && e.getAttribute('data-vango-hook') === named.get(h)) continue;
      live.delete(e);
      for (const k in handlers) handlers[k] = handlers[k].filter((r) => r[0] !== h);
      callback(h, 'destroyed');
    }
    const fresh = new Set();
    for (const e of root.querySelectorAll('[data-vango-hook]')) if (mount(e)) fresh.add(e);
    return fresh;
  }
  // Scripts inserted by a patch (live navigation) are inert; <script data-vango-run> runs.
  function runScripts(n) {
    const list = n.matches && n.matches('script[data-vango-run]') ? [n] : n.querySelectorAll ? n.querySelectorAll('script[data-vango-run]') : [];
    for (const s of list) {
      const t = doc.createElement('script');
      t.textContent = s.textContent;
      s.replaceWith(t);
    }
  }
  // The client's own loading classes (vango-*) are no server change: a class mutation that
  // leaves the other classes as they were does not count.
  const own = (c) => (c || '').split(' ').filter((k) => k && !k.startsWith('vango-')).join(' ');
  // Client-only changes (commands, data-disable-with, the submit lock) are no server patch:
  // what changed before them is seen first, what they change is dropped.
  let busy = 0;
  function quiet(f) {
    if (busy) return f(); // (in a hook callback: changes drops it all)
    const ms = obs.takeRecords();
    if (ms.length) changes(ms);
    f();
    obs.takeRecords();
  }
  function changes(ms) {
    busy = 1;
    for (const m of ms) for (const n of m.addedNodes) runScripts(n);
    const fresh = scan(), touched = new Set();
    for (const m of ms) {
      if (m.attributeName === 'class' && own(m.oldValue) === own(m.target.getAttribute('class')) || m.attributeName === 'readonly' && m.target.vr) continue; // (the core's submit lock)
      const t = m.target.nodeType === 1 ? m.target : m.target.parentElement;
      const e = t && t.closest('[data-vango-hook]');
      if (e && live.has(e) && !fresh.has(e)) touched.add(e);
    }
    for (const e of touched) callback(live.get(e), 'updated');
    obs.takeRecords(); // what the callbacks changed themselves is no update (no loops)
    busy = 0;
  }
  const obs = new MutationObserver(changes);
  obs.observe(root, {subtree: true, childList: true, attributes: true, attributeOldValue: true, characterData: true});

  V.hooks = hooks;
  // (changes, not scan: the new hook's mounted() must not count as an update either)
  V.hook = (name, def) => { hooks[name] = def; changes(obs.takeRecords()); };
  V.exec = (cmds) => run(cmds, null);

  // ---------------------------------------------------------------- streams
  // CALL "stream" {name, do: insert|delete|reset, at, html: [...], key}: items the server does
  // not keep. Applied after the rest of the frame (the container may be new in that frame).
  // data-stream-click="name" inside an item: EVENT "stream" {event, key} on the container.
  const box = (n) => root.querySelector('[data-vango-stream="' + n + '"]');
  const item = (b, k) => [...b.children].find((c) => c.getAttribute('data-stream-key') === k);
  function stream(a) {
    const b = box(a.name);
    if (!b) return console.warn('vango: no stream', a.name);
    if (a.do === 'reset') b.replaceChildren();
    else if (a.do === 'delete') { const c = item(b, a.key); if (c) c.remove(); }
    else if (a.do === 'insert') {
      let at = a.at < 0 ? null : b.children[a.at] || null;
      for (const src of a.html) {
        const t = doc.createElement('template');
        t.innerHTML = src;
        const n = t.content.firstElementChild;
        if (!n) continue;
        const old = item(b, n.getAttribute('data-stream-key'));
        if (old) { if (old === at) at = old.nextElementSibling; old.replaceWith(n); } else b.insertBefore(n, at);
      }
    }
  }
  doc.addEventListener('click', (ev) => {
    const e = ev.target.closest && ev.target.closest('[data-stream-click]');
    const b = e && e.closest('[data-vango-stream]'), it = e && e.closest('[data-stream-key]');
    if (!b || !it || !b.hasAttribute('data-hid')) return;
    ev.preventDefault();
    push(b, 'stream', {event: e.getAttribute('data-stream-click'), key: it.getAttribute('data-stream-key')});
    idle();
  });

  // ---------------------------------------------------------------- uploads
  // <input type=file data-vango-upload=name>: EVENT "upload" {op: "start", entries}, then
  // {op: "chunk", ref, offset, data: bin} events, at most data-upload-window unacknowledged
  // per input (flow control; unacked chunks are re-sent after a reconnect by the core).
  // CALL "upload" {name, stop: [ref]}: refused or cancelled by the server, stop sending.
  const ups = new Map(); // input -> {files: [{ref, file, off}], later: [...], busy, reading}
  let refN = 0;
  async function pump(inp) {
    const u = ups.get(inp);
    if (!u || u.reading) return;
    u.reading = true;
    try {
      const size = +inp.getAttribute('data-upload-chunk') || 32768, win = +inp.getAttribute('data-upload-window') || 4;
      while (u.busy < win && inp.isConnected) {
        const f = u.files.find((x) => x.off < x.file.size);
        if (!f) break;
        const off = f.off, buf = new Uint8Array(await f.file.slice(off, off + size).arrayBuffer());
        if (!u.files.includes(f)) continue; // stopped while reading
        f.off = off + buf.length;
        u.busy++;
        push(inp, 'upload', {op: 'chunk', ref: f.ref, offset: off, data: buf});
      }
      u.files = u.files.filter((x) => x.off < x.file.size);
    } finally { u.reading = false; }
  }
  doc.addEventListener('change', (ev) => {
    const inp = ev.target;
    if (!inp.matches || !inp.matches('input[type=file][data-vango-upload]') || !inp.files.length) return;
    const files = [...inp.files].map((file) => ({ref: 'u' + Date.now().toString(36) + (refN++), file, off: 0}));
    inp.value = '';
    const u = ups.get(inp) || {files: [], busy: 0};
    ups.set(inp, u);
    const all = files.map((f) => ({ref: f.ref, name: f.file.name, type: f.file.type, size: f.file.size}));
    // 50 entries a message: a start stays far below the frame limit however many are picked
    for (let i = 0; i < all.length; i += 50) push(inp, 'upload', {op: 'start', entries: all.slice(i, i + 50), more: i > 0});
    u.later = (u.later || []).concat(files); // sent once their start is acked (refusals known)
  });
  const done0 = X.done;
  X.done = (q) => {
    done0(q);
    if (q.t !== 'upload') return;
    const u = ups.get(q.e);
    if (!u) return;
    if (q.p.op === 'chunk') u.busy--;
    else if (q.p.op === 'start') u.files.push(...u.later.splice(0, q.p.entries.length));
    queueMicrotask(() => pump(q.e)); // after this frame's ops (its CALL "upload" stops)
  };
  function stop(a) {
    for (const [inp, u] of ups) {
      if (inp.getAttribute('data-vango-upload') !== a.name) continue;
      u.files = u.files.filter((f) => !a.stop.includes(f.ref));
      u.later = u.later.filter((f) => !a.stop.includes(f.ref));
    }
  }
  V.cancelUpload = (inp, ref) => { stop({name: inp.getAttribute('data-vango-upload'), stop: [ref]}); push(inp, 'upload', {op: 'cancel', ref}); idle(); };

  // ---------------------------------------------------------------- CALL ops
  // (the server sends a page's CALLs after its other ops; event and exec first mount the
  // hooks those added, as LiveView's events come after their patch)
  X.call = (name, a) => {
    if (name === 'upload') return stop(a);
    if (name === 'stream') return void queueMicrotask(() => stream(a));
    if (name === 'event') {
      quiet(() => {
        for (const [h, fn] of handlers[a.name] || []) {
          try { fn.call(h, a.payload); } catch (err) { console.error('vango: handleEvent', a.name, err); }
        }
      });
    } else if (name === 'exec') run(a.cmds, null);
    // "load": the page needs this script; being here is enough
  };
  const done1 = X.done; // (last: every part's X.done is set)
  X.done = (q) => { if (q.s > acked) acked = q.s; done1(q); };
  changes(obs.takeRecords());
})();
