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
      operatorTyping: 'L’operatore sta scrivendo…',
      closeChat: 'Chiudi la chat',
      attach: 'Allega una foto o un PDF',
      err_file_too_large: 'Il file supera i 10 MB: inviane uno più piccolo.',
      err_file_type: 'Si possono inviare solo foto (JPEG, PNG, GIF, WebP) e PDF.',
      welcome: "Ciao! Sono l'assistente del negozio. Scrivimi la tua domanda: se serve, ti passo a una persona.",
      queued: 'Sei in coda per parlare con una persona (posizione {n}).',
      queuedNoPos: 'Sei in coda per parlare con una persona.',
      peopleOnline: 'Il bot risponde subito; le persone sono in linea ora.',
      peopleBack: 'Il bot risponde subito; le persone tornano {when}.',
      peopleAway: 'Il bot risponde subito; le persone non sono in linea.',
      followLabel: 'Se chiudi la chat, ti mandiamo la risposta per email:',
      followPlaceholder: 'la tua email',
      followSave: 'Avvisami',
      followSaved: 'Se non sei qui quando rispondiamo, ti scriviamo a {email}.',
      withOperator: 'Stai parlando con una persona.',
      you: 'Tu',
      bot: 'Assistente',
      operator: 'Operatore',
      choicesLabel: 'Scegli una risposta',
      networkError: 'Connessione non riuscita. Controlla la rete e riprova.',
      serverError: 'Il servizio non risponde. Riprova tra poco.',
      counter: '{n} / {max}',
      countdown: 'Attendi {s} s prima di inviare',
      // Server errors, by their `code` (params filled in).
      err_too_long: 'Il messaggio è troppo lungo: al massimo {max} caratteri. Puoi dividerlo in più parti.',
      err_rate_limited: 'Troppe richieste in poco tempo: riprova tra {s} s.',
      err_busy: 'Il servizio è molto occupato in questo momento. Riprova tra qualche secondo.',
      err_server_error: 'Si è verificato un problema sul nostro server. Riprova tra poco.',
      err_unauthorized: 'La conversazione non è più valida: ricarica la pagina.',
      err_csrf: 'La pagina non è più aggiornata: ricaricala, per favore.',
      err_forbidden: 'Questa operazione non è consentita.',
      err_not_found: 'La conversazione non è stata trovata: ricarica la pagina.',
    },
    en: {
      title: 'Customer service',
      subtitle: 'We answer right away and pass you to a person when needed.',
      messagesLabel: 'Conversation',
      inputLabel: 'Your message',
      placeholder: 'Type a message…',
      operatorTyping: 'The operator is typing…',
      closeChat: 'Close the chat',
      attach: 'Attach a photo or a PDF',
      err_file_too_large: 'The file is larger than 10 MB: send a smaller one.',
      err_file_type: 'Only photos (JPEG, PNG, GIF, WebP) and PDF files can be sent.',
      send: 'Send',
      welcome: "Hi! I'm the shop's assistant. Write me your question: if needed, I'll pass you to a person.",
      queued: 'You are in line to talk to a person (position {n}).',
      queuedNoPos: 'You are in line to talk to a person.',
      peopleOnline: 'The bot answers at once; people are online now.',
      peopleBack: 'The bot answers at once; people are back {when}.',
      peopleAway: 'The bot answers at once; people are not online.',
      followLabel: 'If you close the chat, we email you the answer:',
      followPlaceholder: 'your email',
      followSave: 'Notify me',
      followSaved: 'If you are not here when we answer, we write to {email}.',
      withOperator: 'You are talking to a person.',
      you: 'You',
      bot: 'Assistant',
      operator: 'Operator',
      choicesLabel: 'Choose an answer',
      networkError: 'Could not connect. Check your network and try again.',
      serverError: 'The service is not answering. Please try again shortly.',
      counter: '{n} / {max}',
      countdown: 'Please wait {s} s before sending',
      // Server errors, by their `code` (params filled in).
      err_too_long: 'Your message is too long: at most {max} characters. You can split it into parts.',
      err_rate_limited: 'Too many requests in a short time: please try again in {s} s.',
      err_busy: 'The service is very busy right now. Please try again in a few seconds.',
      err_server_error: 'Something went wrong on our server. Please try again shortly.',
      err_unauthorized: 'This conversation is no longer valid: please reload the page.',
      err_csrf: 'This page is out of date: please reload it.',
      err_forbidden: 'This is not allowed.',
      err_not_found: 'The conversation was not found: please reload the page.',
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

  /**
   * An error carrying the HTTP status, the server's JSON body
   * ({"error": English sentence, "code": stable code, ...params}) and, for 429,
   * the seconds to wait (from the body or the Retry-After header).
   */
  function HttpError(status, data, retryHeader) {
    this.status = status;
    this.data = (data && typeof data === 'object') ? data : {};
    this.message = (typeof this.data.error === 'string' && this.data.error) || ('HTTP ' + status);
    let wait = Number(this.data.retry_after);
    if (!(wait > 0)) wait = Number(retryHeader);
    this.retryAfter = wait > 0 ? Math.ceil(wait) : 0;
  }

  /** Codes whose server sentence says it best: shown as the server wrote it (like unknown codes). */
  const GENERIC_CODES = { bad_request: true, conflict: true };

  /**
   * The sentence for a failed request, in the page's language: by the body's
   * `code` with its params filled in; else the server's own `error` text (older
   * servers, generic codes); else a sentence from the status alone.
   */
  function errorText(err) {
    if (!(err instanceof HttpError)) return t('networkError');
    const data = err.data;
    const code = typeof data.code === 'string' ? data.code : '';
    const key = 'err_' + code;
    if (code && !GENERIC_CODES[code] && Object.prototype.hasOwnProperty.call(STRINGS.it, key)) {
      return t(key, {
        max: data.max !== undefined ? data.max : MAX_LEN,
        s: err.retryAfter || 1,
      });
    }
    if (typeof data.error === 'string' && data.error) return data.error;
    if (err.status === 413) return t('err_too_long', { max: MAX_LEN });
    if (err.status === 429) return t('err_rate_limited', { s: err.retryAfter || 1 });
    return t('serverError');
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
    if (!res.ok) throw new HttpError(res.status, data, res.headers.get('Retry-After'));
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
    waitUntil: 0,        // Date.now() before which sending is refused (429)
    countdownTimer: null,
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
      welcome.textContent = embed.greeting || t('welcome');
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
  // ---- Inside the widget --------------------------------------------------
  // The shop's page holds the iframe: it hears "close" (the panel's × or Escape) and
  // each new answer while the panel is closed (its unread badge); it asks for focus.

  const embed = { on: false, greeting: '', ready: false };

  function tellParent(message) {
    if (embed.on && window.parent !== window) window.parent.postMessage(message, '*');
  }

  function wireEmbed() {
    $('embed-close').addEventListener('click', function () { tellParent({ sportello: 'close' }); });
    document.addEventListener('keydown', function (e) {
      if (e.key === 'Escape') tellParent({ sportello: 'close' });
    });
    window.addEventListener('message', function (e) {
      if (e.data && e.data.sportello === 'focus' && els.input) els.input.focus();
    });
  }

  function appendMessages(messages) {
    let added = 0;
    messages.slice().sort(function (a, b) { return a.seq - b.seq; }).forEach(function (msg) {
      if (typeof msg.seq !== 'number' || state.seen.has(msg.seq)) return;
      state.seen.add(msg.seq);
      if (msg.seq > state.lastSeq) state.lastSeq = msg.seq;
      if (!state.lastMessage || msg.seq >= state.lastMessage.seq) state.lastMessage = msg;
      els.messages.appendChild(messageNode(msg));
      added += 1;
      if (embed.ready && msg.author !== 'customer') tellParent({ sportello: 'message' });
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
    if (state.sending || waiting()) return;
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
    state.mode = mode;
    renderFollow();
  }

  /** Whether people are in now, from the shop's opening hours. */
  async function loadPeople() {
    let data;
    try { data = await request('GET', '/api/v1/chat/status?lang=' + LANG); } catch (e) { return; }
    const subtitle = document.getElementById('subtitle');
    subtitle.textContent = data.people_online ? t('peopleOnline')
      : data.opens ? t('peopleBack', { when: data.opens }) : t('peopleAway');
    state.emailOffer = !!data.email;
    state.contact = data.contact || null;
    renderFollow();
  }

  /** Waiting for a person: the field for an address to get the reply by email. */
  function renderFollow() {
    const waiting = state.mode === 'queued' || state.mode === 'with_operator';
    const box = document.getElementById('follow');
    box.hidden = !(waiting && state.emailOffer);
    document.getElementById('follow-form').hidden = !!state.contact;
    const saved = document.getElementById('follow-saved');
    saved.hidden = !state.contact;
    saved.textContent = state.contact ? t('followSaved', { email: state.contact }) : '';
  }

  async function saveEmail(e) {
    e.preventDefault();
    const input = document.getElementById('follow-email');
    try {
      const data = await request('POST', '/api/v1/chat/email', { email: input.value });
      state.contact = data.email;
      showError('');
      renderFollow();
    } catch (err) {
      showError(err.data && err.data.error ? err.data.error : errorText(err));
      input.focus();
    }
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
          // The history shown at load is not news for the widget's badge.
          embed.ready = true;
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

  /** Send the chosen file; the transcript then shows it like any message. */
  async function sendFile(e) {
    const input = e.target;
    const file = input.files && input.files[0];
    input.value = '';
    if (!file || !state.token) return;
    const form = new FormData();
    form.append('file', file, file.name);
    try {
      const res = await fetch('/api/v1/chat/attachments', {
        method: 'POST',
        headers: { 'X-Sportello-Visitor': state.token },
        credentials: 'same-origin',
        body: form,
      });
      if (!res.ok) {
        let data = null;
        try { data = await res.json(); } catch (err) { data = null; }
        const code = data && typeof data.code === 'string' ? data.code : '';
        showError(STRINGS.it['err_' + code] ? t('err_' + code) : (data && data.error) || t('serverError'));
        return;
      }
      fetchNew();
    } catch (err) {
      showError(t('serverError'));
    }
  }

  /** An operator is typing: say so for a few seconds. */
  let typingTimer = null;
  function showTyping() {
    let note = document.getElementById('typing');
    if (!note) {
      note = document.createElement('p');
      note.id = 'typing';
      note.className = 'typing';
      note.setAttribute('aria-live', 'polite');
      els.messages.parentNode.insertBefore(note, els.messages.nextSibling);
    }
    note.textContent = t('operatorTyping');
    note.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { note.hidden = true; }, 6000);
  }

  /** Tell the console the customer is typing, at most every 3 seconds. */
  let typingSent = 0;
  function sayTyping() {
    if (!state.token || !els.input.value.trim() || Date.now() - typingSent < 3000) return;
    typingSent = Date.now();
    request('POST', '/api/v1/chat/typing').catch(function () { /* only a hint */ });
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
    es.addEventListener('typing', showTyping);
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

  /** True while a 429 countdown runs: sending waits for it to end. */
  function waiting() {
    return state.waitUntil > Date.now();
  }

  /** The send button: off while a message is on its way or the countdown runs. */
  function updateSendButton() {
    els.send.disabled = state.sending || waiting();
  }

  /**
   * After a 429: #countdown says "Please wait N s before sending", ticking each
   * second, and the send button stays off until it reaches 0. The text stays in
   * the box; the customer presses send again (nothing is sent by itself).
   */
  function startCountdown(seconds) {
    state.waitUntil = Date.now() + Math.max(1, seconds) * 1000;
    if (state.countdownTimer) clearInterval(state.countdownTimer);
    state.countdownTimer = setInterval(tickCountdown, 250);
    tickCountdown();
  }

  function tickCountdown() {
    const left = Math.ceil((state.waitUntil - Date.now()) / 1000);
    if (left <= 0) {
      clearInterval(state.countdownTimer);
      state.countdownTimer = null;
      state.waitUntil = 0;
      els.countdown.textContent = '';
      els.countdown.hidden = true;
    } else {
      const text = t('countdown', { s: left });
      if (els.countdown.textContent !== text) els.countdown.textContent = text;
      els.countdown.hidden = false;
    }
    updateSendButton();
  }

  /**
   * After a successful send from the box: takes the sent text out of it. Whatever
   * was typed while the message was on its way stays (the box is not simply
   * emptied, which lost it); text edited meanwhile is left as it is.
   */
  function takeSent(raw) {
    const now = els.input.value;
    if (now === raw) {
      els.input.value = '';
    } else if (now.startsWith(raw)) {
      els.input.value = now.slice(raw.length).replace(/^\s+/, '');
    } else {
      return;
    }
    updateInput();
  }

  /**
   * Sends one message. Network failures and 5xx are retried with the same id
   * (the server ignores repeats); 4xx (too long...) show the error in the page's
   * language and keep the text; 429 (too fast) keeps the text and starts the
   * countdown. The box is only changed on success, and only to take out what was
   * sent: a refused message is never queued, resent or joined to the next one.
   * Returns success.
   */
  async function send(text, fromInput) {
    if (state.sending || waiting()) return false;
    const raw = String(text);
    const body = raw.trim();
    if (!body) return false;
    state.sending = true;
    updateSendButton();
    showError('');
    const id = newId();
    let resetOnce = false;
    let reset = false;
    try {
      for (let attempt = 0; ; attempt++) {
        try {
          if (reset) {
            // Token forgotten by the server: start a new conversation, send again.
            reset = false;
            await resetVisitor();
          }
          await ensureToken();
          await request('POST', '/api/v1/chat/messages', {
            id: id,
            text: body,
            locale: navigator.language || LANG,
          });
          if (fromInput) takeSent(raw);
          // Not awaited: the next message can be sent while the answer loads.
          fetchNew();
          return true;
        } catch (err) {
          if (err instanceof HttpError) {
            if ((err.status === 401 || err.status === 404) && !resetOnce) {
              resetOnce = true;
              reset = true;
              continue;
            }
            if (err.status === 429) {
              startCountdown(err.retryAfter || 5);
              return false;
            }
            if (err.status < 500 || attempt >= SEND_RETRIES) {
              showError(errorText(err));
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
      updateSendButton();
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
      countdown: $('countdown'),
    };
    const params = new URLSearchParams(location.search);
    if (params.get('embed') === '1') {
      document.documentElement.classList.add('embed');
      embed.on = true;
      // The widget's words, only inside the frame it makes: opened as a page of its
      // own (a link anyone can write), the shop's chat says only its own.
      const framed = window.parent !== window;
      embed.greeting = framed ? (params.get('greeting') || '').slice(0, 200) : '';
      wireEmbed();
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
    els.input.addEventListener('input', sayTyping);
    document.getElementById('attach').addEventListener('change', sendFile);
    document.getElementById('follow-form').addEventListener('submit', saveEmail);
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'visible') fetchNew();
    });

    try {
      await ensureToken();
    } catch (err) {
      showError(errorText(err));
      // Try again a bit later: the server may be restarting.
      setTimeout(retryStart, 5000);
      return;
    }
    await loadPeople();
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
