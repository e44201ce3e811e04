// Sportello web chat: the customer's side of a conversation.
// Talks to /api/v1/chat/* (see docs/api.md). No dependencies, no inline code:
// the page runs under a strict Content-Security-Policy.
(function () {
  'use strict';

  const TOKEN_KEY = 'sportello.visitor';
  const MAX_LEN = 2000;
  const SEND_RETRIES = 3;

  // ---- UI strings -------------------------------------------------------

  const STRINGS = {
    it: {
      title: 'Assistenza clienti',
      subtitle: 'Rispondiamo subito; se serve, ti passiamo a una persona.',
      messagesLabel: 'Conversazione',
      inputLabel: 'Il tuo messaggio',
      placeholder: 'Scrivi un messaggio…',
      send: 'Invia',
      welcome: "Ciao! Sono l'assistente del negozio. Scrivimi la tua domanda: se serve, ti passo a una persona.",
      queued: 'Sei in coda per parlare con una persona (posizione {n}).',
      queuedNoPos: 'Sei in coda per parlare con una persona.',
      withOperator: 'Stai parlando con una persona.',
      you: 'Tu',
      bot: 'Assistente',
      operator: 'Operatore',
      choicesLabel: 'Scegli una risposta',
      networkError: 'Connessione non riuscita. Controlla la rete e riprova.',
      serverError: 'Il servizio non risponde. Riprova tra poco.',
      counter: '{n} / {max}',
    },
    en: {
      title: 'Customer service',
      subtitle: 'We answer right away and pass you to a person when needed.',
      messagesLabel: 'Conversation',
      inputLabel: 'Your message',
      placeholder: 'Type a message…',
      send: 'Send',
      welcome: "Hi! I'm the shop's assistant. Write me your question: if needed, I'll pass you to a person.",
      queued: 'You are in line to talk to a person (position {n}).',
      queuedNoPos: 'You are in line to talk to a person.',
      withOperator: 'You are talking to a person.',
      you: 'You',
      bot: 'Assistant',
      operator: 'Operator',
      choicesLabel: 'Choose an answer',
      networkError: 'Could not connect. Check your network and try again.',
      serverError: 'The service is not answering. Please try again shortly.',
      counter: '{n} / {max}',
    },
  };

  const LANG = /^en/i.test(navigator.language || '') ? 'en' : 'it';

  /** A UI string, with {name} placeholders filled from vars. */
  function t(key, vars) {
    let s = STRINGS[LANG][key] || STRINGS.it[key] || key;
    if (vars) {
      Object.keys(vars).forEach(function (k) {
        s = s.split('{' + k + '}').join(String(vars[k]));
      });
    }
    return s;
  }

  // ---- Safe Markdown ----------------------------------------------------
  // Shared renderer in markdown.js (loaded first): DOM nodes only, never HTML.

  const renderMarkdown = window.SportelloMarkdown.render;
  const renderPlain = window.SportelloMarkdown.plain;

  // ---- Helpers ----------------------------------------------------------

  const $ = function (id) { return document.getElementById(id); };

  /** 16 random bytes as hex: a client message id (works on plain http too). */
  function newId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) {
      return (b < 16 ? '0' : '') + b.toString(16);
    }).join('');
  }

  const sleep = function (ms) { return new Promise(function (r) { setTimeout(r, ms); }); };

  /** "14:05" for an RFC 3339 time, or "" when unreadable. */
  function shortTime(at) {
    const d = new Date(at);
    if (isNaN(d.getTime())) return '';
    return d.toLocaleTimeString(LANG, { hour: '2-digit', minute: '2-digit' });
  }

  /** An error carrying the HTTP status and the server's JSON body. */
  function HttpError(status, data) {
    this.status = status;
    this.data = data || {};
    this.message = (data && data.error) || ('HTTP ' + status);
  }

  /** fetch + JSON; throws HttpError on non-2xx, TypeError on network failure. */
  async function request(method, path, body) {
    const headers = { 'Accept': 'application/json' };
    if (state.token) headers['X-Sportello-Visitor'] = state.token;
    const opts = { method: method, headers: headers, credentials: 'same-origin', cache: 'no-store' };
    if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body);
    }
    const res = await fetch(path, opts);
    let data = null;
    try { data = await res.json(); } catch (e) { data = null; }
    if (!res.ok) throw new HttpError(res.status, data);
    return data || {};
  }

  // ---- State ------------------------------------------------------------

  const state = {
    token: null,
    lastSeq: 0,
    seen: new Set(),     // seqs already on screen
    lastMessage: null,   // the newest message, for its choices
    events: null,        // EventSource
    reconnectDelay: 2000,
    fetching: null,      // the running fetchNew promise
    again: false,        // fetchNew asked for while one runs
    sending: false,
    resets: 0,
  };

  let els = {};

  // ---- Visitor token ----------------------------------------------------

  function readToken() {
    try { return localStorage.getItem(TOKEN_KEY); } catch (e) { return null; }
  }

  function storeToken(token) {
    try {
      if (token) localStorage.setItem(TOKEN_KEY, token);
      else localStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* private mode: the token lives for this page only */ }
  }

  /** Makes sure there is a visitor token, asking the server for one if needed. */
  async function ensureToken() {
    if (state.token) return state.token;
    state.token = readToken();
    if (state.token) return state.token;
    const data = await request('POST', '/api/v1/chat/start', { locale: navigator.language || LANG });
    state.token = data.visitor;
    storeToken(state.token);
    return state.token;
  }

  /** The server forgot our token: drop it, clear the screen and start over. */
  async function resetVisitor() {
    state.resets += 1;
    if (state.events) { state.events.close(); state.events = null; }
    state.token = null;
    storeToken(null);
    state.lastSeq = 0;
    state.seen.clear();
    state.lastMessage = null;
    els.messages.textContent = '';
    updateWelcome();
    setStatus('bot', null);
    if (state.resets > 3) { // do not loop forever against a broken server
      showError(t('serverError'));
      return;
    }
    await ensureToken();
    await fetchNew();
    openEvents();
  }

  // ---- Rendering --------------------------------------------------------

  /** Shows the welcome line while the transcript is empty. */
  function updateWelcome() {
    let welcome = els.messages.querySelector('.welcome');
    if (state.seen.size > 0) {
      if (welcome) welcome.remove();
      return;
    }
    if (!welcome) {
      welcome = document.createElement('div');
      welcome.className = 'welcome';
      welcome.textContent = t('welcome');
      els.messages.prepend(welcome);
    }
  }

  /** One message: div.msg.customer|bot|operator with .who (operators), .text and time. */
  function messageNode(msg) {
    const author = (msg.author === 'customer' || msg.author === 'operator') ? msg.author : 'bot';
    const div = document.createElement('div');
    div.className = 'msg ' + author;
    div.dataset.seq = String(msg.seq);
    if (msg.kind) div.dataset.kind = String(msg.kind);

    if (author === 'operator') {
      const who = document.createElement('div');
      who.className = 'who';
      who.textContent = msg.operator || t('operator');
      div.appendChild(who);
    }
    const text = document.createElement('div');
    text.className = 'text';
    text.appendChild(author === 'customer' ? renderPlain(msg.text) : renderMarkdown(msg.text));
    div.appendChild(text);

    const time = document.createElement('time');
    time.className = 'time';
    if (msg.at) time.dateTime = msg.at;
    time.textContent = shortTime(msg.at);
    div.appendChild(time);
    return div;
  }

  /** Appends messages not seen yet, in seq order. Returns how many were new. */
  function appendMessages(messages) {
    let added = 0;
    messages.slice().sort(function (a, b) { return a.seq - b.seq; }).forEach(function (msg) {
      if (typeof msg.seq !== 'number' || state.seen.has(msg.seq)) return;
      state.seen.add(msg.seq);
      if (msg.seq > state.lastSeq) state.lastSeq = msg.seq;
      if (!state.lastMessage || msg.seq >= state.lastMessage.seq) state.lastMessage = msg;
      els.messages.appendChild(messageNode(msg));
      added += 1;
    });
    if (added) {
      updateWelcome();
      renderChoices();
      scrollToBottom();
    }
    return added;
  }

  /** The Clarify buttons of the last message, if it has any. */
  function renderChoices() {
    const old = els.messages.querySelector('.choices');
    if (old) old.remove();
    const msg = state.lastMessage;
    if (!msg || !Array.isArray(msg.choices) || msg.choices.length === 0) return;
    const box = document.createElement('div');
    box.className = 'choices';
    box.setAttribute('role', 'group');
    box.setAttribute('aria-label', t('choicesLabel'));
    msg.choices.forEach(function (label) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'choice';
      b.textContent = String(label);
      b.addEventListener('click', function () { choose(String(label)); });
      box.appendChild(b);
    });
    els.messages.appendChild(box);
  }

  /** Pressing a choice sends its label as a message. */
  async function choose(label) {
    if (state.sending) return;
    const box = els.messages.querySelector('.choices');
    if (box) box.remove();
    const ok = await send(label, false);
    if (!ok) renderChoices(); // let the customer try again
  }

  /** #status from the conversation state. */
  function setStatus(mode, position) {
    let text = '';
    if (mode === 'queued') {
      text = (position === null || position === undefined) ? t('queuedNoPos') : t('queued', { n: position });
    } else if (mode === 'with_operator') {
      text = t('withOperator');
    }
    els.status.textContent = text;
    els.status.hidden = !text;
    els.status.className = 'status' + (mode ? ' ' + mode : '');
  }

  function showError(text) {
    els.error.textContent = text || '';
    els.error.hidden = !text;
  }

  function scrollToBottom() {
    els.messages.scrollTop = els.messages.scrollHeight;
  }

  // ---- Fetching ---------------------------------------------------------

  /** GET the messages after lastSeq and show them; coalesces parallel calls. */
  function fetchNew() {
    if (state.fetching) {
      state.again = true;
      return state.fetching;
    }
    state.fetching = (async function () {
      await null; // finish asynchronously, after state.fetching is set
      do {
        state.again = false;
        if (!state.token) break;
        try {
          const data = await request('GET', '/api/v1/chat/messages?after=' + state.lastSeq);
          appendMessages(Array.isArray(data.messages) ? data.messages : []);
          setStatus(data.state, data.position);
          state.resets = 0;
        } catch (err) {
          if (err instanceof HttpError && (err.status === 401 || err.status === 404)) {
            state.fetching = null;
            await resetVisitor();
            return;
          }
          // Network trouble: the event stream's reconnect will ask again.
        }
      } while (state.again);
      state.fetching = null;
    })();
    return state.fetching;
  }

  /** Live updates: every `changed` event means "ask for new messages". */
  function openEvents() {
    if (!state.token || typeof EventSource === 'undefined') return;
    if (state.events) state.events.close();
    const es = new EventSource('/api/v1/chat/events?visitor=' + encodeURIComponent(state.token));
    state.events = es;
    es.addEventListener('open', function () {
      state.reconnectDelay = 2000;
      fetchNew();
    });
    es.addEventListener('changed', function () { fetchNew(); });
    es.addEventListener('error', function () {
      if (es.readyState !== EventSource.CLOSED || state.events !== es) return;
      // The browser gave up (e.g. 401/404 for a forgotten token): ask the
      // messages endpoint, which resets a forgotten token, then reconnect.
      state.events = null;
      const delay = state.reconnectDelay;
      state.reconnectDelay = Math.min(state.reconnectDelay * 2, 30000);
      setTimeout(async function () {
        await fetchNew();
        if (!state.events && state.token) openEvents();
      }, delay);
    });
  }

  // ---- Sending ----------------------------------------------------------

  /**
   * Sends one message. Network failures and 5xx are retried with the same id
   * (the server ignores repeats); 4xx (too long, too fast...) show the server's
   * error and keep the text. Returns success.
   */
  async function send(text, fromInput) {
    if (state.sending) return false;
    const body = String(text).trim();
    if (!body) return false;
    state.sending = true;
    els.send.disabled = true;
    showError('');
    const id = newId();
    let resetOnce = false;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          await ensureToken();
          await request('POST', '/api/v1/chat/messages', {
            id: id,
            text: body,
            locale: navigator.language || LANG,
          });
          if (fromInput) {
            els.input.value = '';
            updateInput();
          }
          // Not awaited: the next message can be sent while the answer loads.
          fetchNew();
          return true;
        } catch (err) {
          if (err instanceof HttpError) {
            if ((err.status === 401 || err.status === 404) && !resetOnce) {
              // Token forgotten by the server: start a new conversation, send again.
              resetOnce = true;
              await resetVisitor();
              continue;
            }
            if (err.status < 500 || attempt >= SEND_RETRIES) {
              showError(err.data && err.data.error ? err.data.error : t('serverError'));
              return false;
            }
          } else if (attempt >= SEND_RETRIES) {
            showError(t('networkError'));
            return false;
          }
          await sleep(500 * Math.pow(2, attempt));
        }
      }
    } finally {
      state.sending = false;
      els.send.disabled = false;
    }
  }

  /** Grows the textarea with its content (via rows, no inline style) and updates the counter. */
  function updateInput() {
    const value = els.input.value;
    const lines = value.split('\n').length;
    const wrapped = Math.ceil(value.length / 45);
    els.input.rows = Math.max(1, Math.min(6, Math.max(lines, wrapped)));
    const n = value.length;
    els.counter.hidden = n < MAX_LEN * 0.8;
    els.counter.textContent = t('counter', { n: n, max: MAX_LEN });
    els.counter.classList.toggle('over', n > MAX_LEN);
  }

  // ---- Start ------------------------------------------------------------

  /** Static strings of the page in the UI language. */
  function applyStrings() {
    document.documentElement.lang = LANG;
    document.title = t('title');
    document.querySelectorAll('[data-i18n]').forEach(function (el) {
      el.textContent = t(el.getAttribute('data-i18n'));
    });
    document.querySelectorAll('[data-i18n-placeholder]').forEach(function (el) {
      el.setAttribute('placeholder', t(el.getAttribute('data-i18n-placeholder')));
    });
    document.querySelectorAll('[data-i18n-aria]').forEach(function (el) {
      el.setAttribute('aria-label', t(el.getAttribute('data-i18n-aria')));
    });
  }

  async function init() {
    els = {
      messages: $('messages'),
      status: $('status'),
      error: $('error'),
      input: $('input'),
      send: $('send'),
      form: $('composer'),
      counter: $('counter'),
    };
    if (new URLSearchParams(location.search).get('embed') === '1') {
      document.documentElement.classList.add('embed');
    }
    applyStrings();
    updateWelcome();

    els.form.addEventListener('submit', function (e) {
      e.preventDefault();
      send(els.input.value, true);
    });
    els.input.addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing && e.keyCode !== 229) {
        e.preventDefault();
        send(els.input.value, true);
      }
    });
    els.input.addEventListener('input', updateInput);
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'visible') fetchNew();
    });

    try {
      await ensureToken();
    } catch (err) {
      showError(err instanceof HttpError && err.data.error ? err.data.error : t('networkError'));
      // Try again a bit later: the server may be restarting.
      setTimeout(retryStart, 5000);
      return;
    }
    await fetchNew();
    openEvents();
  }

  /** A later attempt after the first start failed. */
  async function retryStart() {
    try {
      await ensureToken();
      showError('');
      await fetchNew();
      openEvents();
    } catch (err) {
      setTimeout(retryStart, 10000);
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
