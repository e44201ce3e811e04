// Sportello operator console: queue, tickets, replies and notes.
// Talks to /api/v1/* with the session cookie (see docs/api.md). No dependencies, no
// inline code: the page runs under a strict Content-Security-Policy, and every text
// that comes from customers, operators or the bot is put in the page as text nodes.
(function () {
  'use strict';

  const LANG_KEY = 'sportello.lang';
  const FILTER_KEY = 'sportello.filter';
  const WAIT_REFRESH_MS = 15000;

  // ---- UI strings -------------------------------------------------------

  const STRINGS = {
    it: {
      loading: 'Caricamento…',
      bootError: 'Il server non risponde. Nuovo tentativo tra qualche secondo…',
      setupTitle: 'Primo avvio',
      setupIntro: "Crea il primo account: sarà l'amministratore.",
      name: 'Nome',
      password: 'Password',
      setupToken: 'Codice di configurazione',
      setupTokenHint: "Il codice che «sportello serve» ha stampato all'avvio.",
      yourDepartments: 'I tuoi reparti',
      departmentsText: 'Reparti, separati da virgole',
      setupSubmit: 'Crea account',
      loginTitle: 'Accesso operatori',
      loginSubmit: 'Entra',
      sessionExpired: 'La sessione è scaduta: accedi di nuovo.',
      otherLang: 'English',
      otherLangShort: 'EN',
      otherLangLabel: 'Switch to English',
      queue: 'Coda',
      filterLabel: 'Reparti da mostrare',
      filterMine: 'I miei reparti',
      filterAll: 'Tutti i reparti',
      logout: 'Esci',
      report: 'Report KPI',
      pickTicket: 'Scegli una richiesta dalla coda per vederla qui.',
      loadingTicket: 'Caricamento della richiesta…',
      back: '← Coda',
      claim: 'Prendi in carico',
      release: 'Rilascia',
      close: 'Chiudi',
      transferTo: 'Trasferisci a…',
      transfer: 'Trasferisci',
      transferDepartments: 'Reparti',
      transferOperators: 'Operatori',
      transcript: 'Conversazione',
      canned: 'Risposte pronte',
      cannedPlaceholder: 'Risposte pronte…',
      shortcut: 'Ctrl+Invio per inviare',
      reply: 'Risposta',
      replyPlaceholder: 'Scrivi la risposta al cliente…',
      send: 'Invia',
      notes: 'Note private',
      newNote: 'Nuova nota',
      notePlaceholder: 'Nota visibile solo agli operatori…',
      addNote: 'Aggiungi nota',
      noNotes: 'Nessuna nota.',
      previous: 'Richieste precedenti',
      noPrevious: 'Nessuna richiesta precedente.',
      emptyQueue: 'Nessuna richiesta in coda.',
      emptyQueueHint: 'Ottimo lavoro! Le nuove richieste compaiono qui da sole.',
      emptyFiltered: 'Nessuna richiesta per questi reparti.',
      emptyFilteredHint: 'Altre {n} in altri reparti: scegli «Tutti i reparti» per vederle.',
      emptyTranscript: 'Nessun messaggio.',
      reason_asked: 'ha chiesto una persona',
      why_asked: 'Il cliente ha chiesto di parlare con una persona.',
      why_picked_person: 'Il cliente ha scelto di parlare con una persona tra le proposte.',
      why_second_miss: 'Il bot non ha trovato la risposta per due messaggi di fila.',
      why_complaint: 'Il cliente sembra scontento: il bot ha passato subito la conversazione.',
      why_intent: 'La regola «{intent}» chiede una persona.',
      reason_low_confidence: 'il bot non ha capito',
      reason_complaint: 'reclamo',
      status_queued: 'in coda',
      status_claimed: 'in carico',
      status_closed: 'chiusa',
      status_cancelled: 'annullata',
      prio_low: 'bassa',
      prio_normal: 'normale',
      prio_high: 'alta',
      prio_urgent: 'urgente',
      sla_near: 'SLA a rischio',
      sla_breached: 'SLA superato',
      priority: 'priorità {p}',
      takenBy: 'in carico a {op}',
      takenByMe: 'in carico a te',
      customer: 'Cliente',
      bot: 'Bot',
      operator: 'Operatore',
      why: 'Decisione',
      candidates: 'candidati',
      orders: 'Ordini',
      opened: 'aperta: {t}',
      waitingFor: 'in attesa da {w}',
      lessMin: '< 1 min',
      mins: '{m} min',
      hours: '{h} h',
      hoursMins: '{h} h {m} min',
      days: '{d} g {h} h',
      replyNeedsClaim: 'Prendi in carico la richiesta per rispondere e scrivere note.',
      replyOther: 'La richiesta è in carico a {op}: non puoi rispondere.',
      replyClosed: 'La richiesta è chiusa.',
      notFound: 'Richiesta non trovata.',
      networkError: 'Connessione non riuscita. Controlla la rete e riprova.',
      setupNoToken: 'Manca il codice di configurazione.',
      noDepartment: 'nessun reparto',
      kind_answer: 'risposta',
      kind_clarify: 'domanda',
      kind_fallback: 'non capito',
      kind_handoff: 'passaggio',
      kind_cancelled: 'annullata',
      kind_reply: 'risposta',
      setupBadToken: 'Il codice di configurazione non è valido: usa quello che «sportello serve» ha stampato all’avvio.',
      window_closed: 'WhatsApp: sono passate 24 ore dall’ultimo messaggio del cliente. Le risposte aspettano che riscriva.',
      customer_typing: 'Il cliente sta scrivendo…',
      alerts_on: 'Avvisi',
      admin: 'Gestione',
      admin_operators: 'Operatori',
      admin_name: 'nome',
      admin_password: 'password (almeno 8 caratteri)',
      admin_add: 'Aggiungi',
      admin_remove: 'Rimuovi',
      admin_reset: 'Nuova password',
      admin_reset_prompt: 'Nuova password per {name} (almeno 8 caratteri):',
      admin_current_prompt: 'La tua password attuale:',
      admin_reset_done: 'Password di {name} cambiata: le sue sessioni sono chiuse.',
      admin_tokens: 'I tuoi token API',
      admin_token_label: 'etichetta (es. report notturno)',
      admin_token_new: 'Nuovo token',
      admin_token_once: 'Il token (mostrato solo ora): {token}',
      admin_revoke: 'Revoca',
      admin_never_used: 'mai usato',
      admin_used: 'usato {t}',
      close_panel: 'Chiudi',
      close_title: 'Chiudere la richiesta?',
      close_faq: 'Ha risposto una FAQ? (facoltativo)',
      close_no_faq: '— nessuna —',
      cancel: 'Annulla',
      shortcuts_title: 'Scorciatoie',
      sc_next: 'j / k: richiesta successiva / precedente',
      sc_claim: 'c: prendi in carico',
      sc_close: 'x: chiudi (chiede conferma)',
      sc_canned: '/: risposte pronte',
      sc_help: '?: questo elenco',
      alert_new_ticket: 'Nuova richiesta #{id}',
      alert_reply: 'Il cliente ha risposto (#{id})',
      alert_escalated: 'Richiesta #{id}: stima di attesa mancata 3 volte',
      admin_canned: 'Risposte pronte',
      admin_canned_add: 'Aggiungi una risposta',
      admin_canned_save: 'Salva le risposte',
      admin_canned_saved: 'Risposte pronte salvate.',
      admin_any_lang: 'tutte le lingue',
      admin_edit: 'Modifica',
      admin_save: 'Salva',
      admin_saved: 'Accesso di {name} aggiornato.',
      admin_hours: 'Reparti e orari',
      admin_hours_hint: 'Gli orari si cambiano in sportello.toml ([hours] e [departments.NOME.hours]).',
      hours_department: 'Reparto',
      hours_week: 'Orari',
      hours_now: 'Adesso',
      hours_sla: 'Prima risposta',
      hours_people: 'Operatori',
      hours_keywords: 'Parole chiave',
      hours_open: 'aperto',
      hours_opens: 'apre {t}',
      hours_closed_long: 'chiuso per oltre un mese',
      hours_closed_day: 'chiuso',
      hours_default: '(predefinito)',
      hours_own: 'orari propri',
      hours_closures: 'Chiusure nei prossimi 31 giorni: {days}',
      hours_none: '—',
      hours_minutes: '{n} min',
      days: ['lun', 'mar', 'mer', 'gio', 'ven', 'sab', 'dom'],
      mute: 'Suono disattivato',
      sound_on_short: 'Suono',
      sound_off_short: 'Muto',
      unmute: 'Suono attivo',
      open_attachment: 'Apri l’allegato',
      whole_mail: 'La mail intera',
      unreachable: 'Il cliente non è raggiungibile: le risposte non arrivano ({why}).',
      colleague_typing: '{name} sta scrivendo…',
      view_all: 'Tutte',
      view_mine: 'Mie',
      view_unassigned: 'Da assegnare',
      view_closed: 'Chiuse',
      search_label: 'Cerca',
      search_placeholder: 'Cerca: numero, cliente, testo…',
      escalated: 'stima mancata 3 volte',
      content_errors: 'Contenuti: {n} file con errori (restano in servizio le versioni precedenti).',
      order_show: 'Vedi ordine',
      order_loading: 'Cerco l’ordine…',
      order_title: 'Ordine {n}',
      order_total: 'Totale',
      order_tracking: 'Tracciamento',
      order_proven: 'Verificato: il cliente ha confermato l’email o il CAP dell’ordine.',
      order_named: 'Non verificato: il cliente ha solo scritto il numero. Chiedi l’email o il CAP prima di parlarne.',
      order_failed: 'Attenzione: il cliente non ha saputo confermare l’email o il CAP di questo ordine.',
      order_status_received: 'ricevuto',
      order_status_preparing: 'in preparazione',
      order_status_shipped: 'spedito',
      order_status_delivered: 'consegnato',
      order_status_cancelled: 'annullato',
      order_status_refunded: 'rimborsato',
      err_no_order: 'Il negozio non ha un ordine con questo numero.',
      err_no_order_number: 'Il ticket non ha un numero d’ordine.',
      err_orders_off: 'Nessuna piattaforma ordini collegata ([orders] in sportello.toml).',
      err_orders_unavailable: 'La piattaforma ordini non risponde: riprova tra poco.',
      window_closed_template: 'WhatsApp: sono passate 24 ore dall’ultimo messaggio del cliente. Gli è stato inviato il modello per riprendere la conversazione; le risposte partono quando riscrive.',
      // Server errors, by their `code` (params filled in).
      err_login_failed: 'Nome o password errati.',
      err_login_locked: 'Troppi accessi non riusciti: riprova tra {m} minuti.',
      err_login_locked_one: 'Troppi accessi non riusciti: riprova tra un minuto.',
      err_rate_limited: 'Troppe richieste in poco tempo: riprova tra {s} s.',
      err_busy: 'Il server è occupato in questo momento: riprova tra qualche secondo.',
      err_already_claimed: 'Il ticket {ticket} è già stato preso da {operator}.',
      err_not_yours: 'Il ticket {ticket} non è in carico a te: prendilo in carico prima.',
      err_not_yours_held: 'Il ticket {ticket} è in carico a {operator}: chiedi a {operator} di rilasciarlo o trasferirlo.',
      err_not_open: 'Il ticket {ticket} non è più aperto.',
      err_forgotten: 'Il cliente del ticket {ticket} è stato cancellato (diritto all\'oblio): non si possono più aggiungere note.',
      err_password_short: 'La password è troppo corta: servono almeno {min} caratteri.',
      err_current_password: 'La password attuale non è giusta: riprova.',
      err_name_invalid: 'Nome non valido: da 2 a 32 caratteri, solo lettere minuscole, cifre, punto, trattino basso e trattino.',
      err_too_long: 'Il messaggio è troppo lungo: al massimo {max} caratteri.',
      err_unauthorized: 'Accedi per continuare.',
      err_csrf: 'La pagina non è più valida: ricaricala.',
      err_forbidden: 'Solo un amministratore può farlo.',
      err_not_found: 'Non trovato: forse non esiste più.',
      err_server_error: 'Qualcosa è andato storto sul server. Riprova; se succede ancora, avvisa il responsabile.',
      errStatus: 'Errore {status}: riprova.',
    },
    en: {
      loading: 'Loading…',
      bootError: 'The server is not answering. Trying again in a few seconds…',
      setupTitle: 'First start',
      setupIntro: 'Create the first account: it will be the administrator.',
      name: 'Name',
      password: 'Password',
      setupToken: 'Setup code',
      setupTokenHint: 'The code "sportello serve" printed when it started.',
      yourDepartments: 'Your departments',
      departmentsText: 'Departments, separated by commas',
      setupSubmit: 'Create account',
      loginTitle: 'Operator sign-in',
      loginSubmit: 'Sign in',
      sessionExpired: 'Your session has expired: please sign in again.',
      otherLang: 'Italiano',
      otherLangShort: 'IT',
      otherLangLabel: 'Passa all’italiano',
      queue: 'Queue',
      filterLabel: 'Departments to show',
      filterMine: 'My departments',
      filterAll: 'All departments',
      logout: 'Sign out',
      report: 'KPI report',
      pickTicket: 'Pick a request from the queue to see it here.',
      loadingTicket: 'Loading the request…',
      back: '← Queue',
      claim: 'Claim',
      release: 'Release',
      close: 'Close',
      transferTo: 'Transfer to…',
      transfer: 'Transfer',
      transferDepartments: 'Departments',
      transferOperators: 'Operators',
      transcript: 'Conversation',
      canned: 'Canned replies',
      cannedPlaceholder: 'Canned replies…',
      shortcut: 'Ctrl+Enter to send',
      reply: 'Reply',
      replyPlaceholder: 'Write your reply to the customer…',
      send: 'Send',
      notes: 'Private notes',
      newNote: 'New note',
      notePlaceholder: 'A note only operators can see…',
      addNote: 'Add note',
      noNotes: 'No notes.',
      previous: 'Previous requests',
      noPrevious: 'No previous requests.',
      emptyQueue: 'The queue is empty.',
      emptyQueueHint: 'Well done! New requests show up here by themselves.',
      emptyFiltered: 'No requests for these departments.',
      emptyFilteredHint: '{n} more in other departments: choose "All departments" to see them.',
      emptyTranscript: 'No messages.',
      reason_asked: 'asked for a person',
      why_asked: 'The customer asked to talk to a person.',
      why_picked_person: 'The customer chose to talk to a person from the choices.',
      why_second_miss: 'The bot found no answer for two messages in a row.',
      why_complaint: 'The customer seems upset: the bot handed over at once.',
      why_intent: 'The rule "{intent}" asks for a person.',
      reason_low_confidence: 'the bot did not understand',
      reason_complaint: 'complaint',
      status_queued: 'queued',
      status_claimed: 'claimed',
      status_closed: 'closed',
      status_cancelled: 'cancelled',
      prio_low: 'low',
      prio_normal: 'normal',
      prio_high: 'high',
      prio_urgent: 'urgent',
      sla_near: 'SLA at risk',
      sla_breached: 'SLA breached',
      priority: '{p} priority',
      takenBy: 'taken by {op}',
      takenByMe: 'taken by you',
      customer: 'Customer',
      bot: 'Bot',
      operator: 'Operator',
      why: 'Decision',
      candidates: 'candidates',
      orders: 'Orders',
      opened: 'opened: {t}',
      waitingFor: 'waiting {w}',
      lessMin: '< 1 min',
      mins: '{m} min',
      hours: '{h} h',
      hoursMins: '{h} h {m} min',
      days: '{d} d {h} h',
      replyNeedsClaim: 'Claim the request to reply and write notes.',
      replyOther: 'The request is taken by {op}: you cannot reply.',
      replyClosed: 'The request is closed.',
      notFound: 'Request not found.',
      networkError: 'Could not connect. Check your network and try again.',
      setupNoToken: 'The setup code is missing.',
      noDepartment: 'no department',
      kind_answer: 'answer',
      kind_clarify: 'question',
      kind_fallback: 'not understood',
      kind_handoff: 'handoff',
      kind_cancelled: 'cancelled',
      kind_reply: 'reply',
      setupBadToken: 'The setup code is not valid: use the one "sportello serve" printed when it started.',
      window_closed: 'WhatsApp: 24 hours have passed since the customer last wrote. Replies wait until they write again.',
      customer_typing: 'The customer is typing…',
      alerts_on: 'Alerts',
      admin: 'Admin',
      admin_operators: 'Operators',
      admin_name: 'name',
      admin_password: 'password (at least 8 characters)',
      admin_add: 'Add',
      admin_remove: 'Remove',
      admin_reset: 'New password',
      admin_reset_prompt: 'New password for {name} (at least 8 characters):',
      admin_current_prompt: 'Your current password:',
      admin_reset_done: '{name}\'s password changed: their sessions are closed.',
      admin_tokens: 'Your API tokens',
      admin_token_label: 'label (e.g. nightly report)',
      admin_token_new: 'New token',
      admin_token_once: 'The token (shown only now): {token}',
      admin_revoke: 'Revoke',
      admin_never_used: 'never used',
      admin_used: 'used {t}',
      close_panel: 'Close',
      close_title: 'Close this request?',
      close_faq: 'Did an FAQ answer it? (optional)',
      close_no_faq: '— none —',
      cancel: 'Cancel',
      shortcuts_title: 'Shortcuts',
      sc_next: 'j / k: next / previous request',
      sc_claim: 'c: claim',
      sc_close: 'x: close (asks first)',
      sc_canned: '/: ready replies',
      sc_help: '?: this list',
      alert_new_ticket: 'New request #{id}',
      alert_reply: 'The customer replied (#{id})',
      alert_escalated: 'Request #{id}: wait estimate missed 3 times',
      admin_canned: 'Ready replies',
      admin_canned_add: 'Add a reply',
      admin_canned_save: 'Save the replies',
      admin_canned_saved: 'Ready replies saved.',
      admin_any_lang: 'all languages',
      admin_edit: 'Edit',
      admin_save: 'Save',
      admin_saved: '{name}\'s access updated.',
      admin_hours: 'Departments and hours',
      admin_hours_hint: 'Hours are changed in sportello.toml ([hours] and [departments.NAME.hours]).',
      hours_department: 'Department',
      hours_week: 'Hours',
      hours_now: 'Now',
      hours_sla: 'First response',
      hours_people: 'Operators',
      hours_keywords: 'Keywords',
      hours_open: 'open',
      hours_opens: 'opens {t}',
      hours_closed_long: 'closed for over a month',
      hours_closed_day: 'closed',
      hours_default: '(default)',
      hours_own: 'own hours',
      hours_closures: 'Closures in the next 31 days: {days}',
      hours_none: '—',
      hours_minutes: '{n} min',
      days: ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'],
      mute: 'Sound off',
      sound_on_short: 'Sound',
      sound_off_short: 'Muted',
      unmute: 'Sound on',
      open_attachment: 'Open the attachment',
      whole_mail: 'The whole mail',
      unreachable: 'The customer cannot be reached: replies do not arrive ({why}).',
      colleague_typing: '{name} is typing…',
      view_all: 'All',
      view_mine: 'Mine',
      view_unassigned: 'Unassigned',
      view_closed: 'Closed',
      search_label: 'Search',
      search_placeholder: 'Search: number, customer, text…',
      escalated: 'estimate missed 3 times',
      content_errors: 'Content: {n} files with errors (their previous versions keep serving).',
      order_show: 'Show order',
      order_loading: 'Looking the order up…',
      order_title: 'Order {n}',
      order_total: 'Total',
      order_tracking: 'Tracking',
      order_proven: 'Verified: the customer confirmed the order’s email or postcode.',
      order_named: 'Not verified: the customer only wrote the number. Ask for its email or postcode before discussing it.',
      order_failed: 'Careful: the customer could not confirm this order’s email or postcode.',
      order_status_received: 'received',
      order_status_preparing: 'being prepared',
      order_status_shipped: 'shipped',
      order_status_delivered: 'delivered',
      order_status_cancelled: 'cancelled',
      order_status_refunded: 'refunded',
      err_no_order: 'The shop has no order with this number.',
      err_no_order_number: 'The ticket has no order number.',
      err_orders_off: 'No order platform is connected ([orders] in sportello.toml).',
      err_orders_unavailable: 'The order platform is not answering: try again shortly.',
      window_closed_template: 'WhatsApp: 24 hours have passed since the customer last wrote. They were sent the template to resume the conversation; replies go out when they write again.',
      // Server errors, by their `code` (params filled in).
      err_login_failed: 'Wrong name or password.',
      err_login_locked: 'Too many failed sign-ins: try again in {m} minutes.',
      err_login_locked_one: 'Too many failed sign-ins: try again in a minute.',
      err_rate_limited: 'Too many requests in a short time: try again in {s} s.',
      err_busy: 'The server is busy right now: please try again in a few seconds.',
      err_already_claimed: 'Ticket {ticket} is already taken by {operator}.',
      err_not_yours: 'Ticket {ticket} is not claimed by you: claim it first.',
      err_not_yours_held: 'Ticket {ticket} is claimed by {operator}: ask {operator} to release or transfer it.',
      err_not_open: 'Ticket {ticket} is no longer open.',
      err_forgotten: 'The customer of ticket {ticket} was erased (right to be forgotten): notes can no longer be added.',
      err_password_short: 'The password is too short: use at least {min} characters.',
      err_current_password: 'That is not your current password: try again.',
      err_name_invalid: 'Invalid name: 2 to 32 characters, only lowercase letters, digits, dot, underscore and hyphen.',
      err_too_long: 'The message is too long: at most {max} characters.',
      err_unauthorized: 'Please sign in to continue.',
      err_csrf: 'This page is out of date: please reload it.',
      err_forbidden: 'Only an administrator can do this.',
      err_not_found: 'Not found: it may no longer exist.',
      err_server_error: 'Something went wrong on the server. Please try again; if it keeps happening, tell the person in charge.',
      errStatus: 'Error {status}: please try again.',
    },
  };

  /** The saved UI language, else the browser's. */
  function initialLang() {
    let saved = null;
    try { saved = localStorage.getItem(LANG_KEY); } catch (e) { /* ignore */ }
    if (saved === 'it' || saved === 'en') return saved;
    return /^en/i.test(navigator.language || '') ? 'en' : 'it';
  }

  // ---- State ------------------------------------------------------------

  const state = {
    lang: initialLang(),
    me: null,             // {name, role, departments}
    csrf: null,
    departments: [],
    operators: [],
    tickets: [],          // the whole queue, unfiltered
    skew: 0,              // server clock minus ours, in ms
    filter: 'mine',
    view: 'all',          // all | mine | unassigned | closed
    query: '',            // the search box
    openId: null,         // the ticket shown, a number
    detail: null,         // its Detail
    busy: false,          // an action is running
    drafts: {},           // ticket id -> {reply, note}
    es: null,             // EventSource
    esDelay: 2000,
    queueRun: null,
    queueAgain: false,
    ticketRun: null,
    ticketAgain: false,
  };

  /** A UI string, with {name} placeholders filled from vars. */
  function t(key, vars) {
    let s = STRINGS[state.lang][key];
    if (s === undefined) s = STRINGS.it[key];
    if (s === undefined) s = key;
    if (vars) {
      Object.keys(vars).forEach(function (k) {
        s = s.split('{' + k + '}').join(String(vars[k]));
      });
    }
    return s;
  }

  const locale = function () { return state.lang === 'en' ? 'en-GB' : 'it-IT'; };
  const $ = function (id) { return document.getElementById(id); };

  /** Creates an element with a class and text content. */
  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // ---- Safe Markdown ----------------------------------------------------
  // Shared with the web chat, in markdown.js (loaded first): DOM nodes only,
  // links only to http(s).

  const renderMarkdown = window.SportelloMarkdown.render;
  const renderPlain = window.SportelloMarkdown.plain;

  // ---- API --------------------------------------------------------------

  /** An API failure: status (0 = network), the sentence to show and the server's body. */
  function ApiError(status, message, data) {
    this.status = status;
    this.message = message;
    this.data = data || {};
  }

  /** Codes whose server sentence says it best; shown as the server wrote it. */
  const GENERIC_CODES = { bad_request: true, conflict: true };

  /**
   * The sentence for a failed call, in the UI language. The server's body is
   * {"error": English sentence, "code": stable code, ...params}: known codes are
   * translated with their params; generic or unknown codes, and older servers
   * without a code, show the server's `error` text.
   */
  function errorText(status, data, retryHeader) {
    const body = (data && typeof data === 'object') ? data : {};
    const code = typeof body.code === 'string' ? body.code : '';
    let wait = Number(body.retry_after);
    if (!(wait > 0)) wait = Number(retryHeader);
    const secs = wait > 0 ? Math.ceil(wait) : 1;
    if (code === 'login_locked') {
      const mins = Math.max(1, Math.ceil(secs / 60));
      return mins === 1 ? t('err_login_locked_one') : t('err_login_locked', { m: mins });
    }
    // Not yours: held by a colleague (named) or still waiting in the queue.
    const key = code === 'not_yours' && body.operator ? 'err_not_yours_held' : 'err_' + code;
    if (code && !GENERIC_CODES[code] && Object.prototype.hasOwnProperty.call(STRINGS.it, key)) {
      const vars = { s: secs, min: 8 };
      ['ticket', 'operator', 'min', 'max'].forEach(function (k) {
        if (body[k] !== undefined && body[k] !== null && body[k] !== '') vars[k] = body[k];
      });
      // A param the sentence needs but the body lacks: the server's text says more.
      const needs = (STRINGS[state.lang][key] || STRINGS.it[key]).match(/\{\w+\}/g) || [];
      const complete = needs.every(function (p) { return vars[p.slice(1, -1)] !== undefined; });
      if (complete || !(typeof body.error === 'string' && body.error.trim())) return t(key, vars);
    }
    if (typeof body.error === 'string' && body.error.trim()) return body.error.trim();
    if (status === 429) return t('err_rate_limited', { s: secs });
    if (status >= 500) return t('err_server_error');
    return t('errStatus', { status: status });
  }

  /**
   * Calls the API with the session cookie. POSTs carry JSON and the CSRF header.
   * Throws ApiError with the server's `error` text; a 401 once signed in shows login.
   */
  async function api(method, path, body) {
    const headers = { 'Accept': 'application/json' };
    const opts = { method: method, credentials: 'same-origin', headers: headers, cache: 'no-store' };
    if (method !== 'GET') {
      headers['Content-Type'] = 'application/json';
      if (state.csrf) headers['X-CSRF-Token'] = state.csrf;
      opts.body = JSON.stringify(body || {});
    }
    let res;
    try {
      res = await fetch(path, opts);
    } catch (e) {
      throw new ApiError(0, t('networkError'));
    }
    let data = null;
    if (res.status !== 204) {
      try { data = await res.json(); } catch (e) { data = null; }
    }
    if (!res.ok) {
      const message = errorText(res.status, data, res.headers.get('Retry-After'));
      if (res.status === 401 && state.me && path !== '/api/v1/login') sessionExpired();
      throw new ApiError(res.status, message, data);
    }
    return data || {};
  }

  // ---- Views ------------------------------------------------------------

  /** Shows one of: boot, setup, login, app. */
  function showView(view) {
    $('boot').hidden = view !== 'boot';
    $('auth').hidden = view !== 'setup' && view !== 'login';
    $('setup-form').hidden = view !== 'setup';
    $('login-form').hidden = view !== 'login';
    $('app').hidden = view !== 'app';
  }

  /** Static strings of the page in the UI language. */
  function applyStrings() {
    document.documentElement.lang = state.lang;
    $('report-link').setAttribute('href', '/api/v1/report.html?lang=' + state.lang);
    document.querySelectorAll('[data-i18n]').forEach(function (node) {
      node.textContent = t(node.getAttribute('data-i18n'));
    });
    document.querySelectorAll('[data-i18n-placeholder]').forEach(function (node) {
      node.setAttribute('placeholder', t(node.getAttribute('data-i18n-placeholder')));
    });
    const toggle = $('lang-toggle');
    toggle.textContent = t('otherLangShort');
    toggle.setAttribute('aria-label', t('otherLangLabel'));
    toggle.title = t('otherLangLabel');
    $('auth-lang').textContent = t('otherLang');
    $('auth-lang').setAttribute('lang', state.lang === 'it' ? 'en' : 'it');
    const deptText = document.querySelector('input#setup-departments');
    if (deptText) deptText.setAttribute('aria-label', t('departmentsText'));
    updateTitle();
  }

  /** Switches IT <-> EN and redraws everything. */
  function toggleLang() {
    state.lang = state.lang === 'it' ? 'en' : 'it';
    try { localStorage.setItem(LANG_KEY, state.lang); } catch (e) { /* ignore */ }
    applyStrings();
    if (state.me) {
      renderFilter();
      renderTransferOptions();
      renderQueue();
      if (state.detail) renderTicket(false);
      else if (state.openId) $('ticket-empty').firstElementChild.textContent = t('loadingTicket');
    }
  }

  function updateTitle() {
    const n = state.me ? visibleTickets().length : 0;
    const unread = alerts.unread ? '● ' : '';
    document.title = unread + (n ? '(' + n + ') ' : '') + 'Sportello – Console';
    drawBadge(alerts.unread);
  }

  // ---- Alerts -------------------------------------------------------------
  // A new ticket, or a customer's reply on a ticket you hold: a sound (unless muted),
  // a desktop notification (permission asked once, from the "Alerts" button) and a
  // badge on the tab's icon until the console has the focus again.

  const MUTE_KEY = 'sportello-console-muted';
  const alerts = { known: null, unread: 0, muted: false };
  try { alerts.muted = localStorage.getItem(MUTE_KEY) === '1'; } catch (e) { /* ignore */ }

  /** The tab's icon: a red dot with the count, or nothing. */
  function drawBadge(n) {
    let link = document.querySelector('link[rel="icon"]');
    if (!link) {
      link = document.createElement('link');
      link.rel = 'icon';
      document.head.appendChild(link);
    }
    if (!n) {
      link.href = 'data:,';
      link.removeAttribute('data-unread');
      return;
    }
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 32;
    const g = canvas.getContext('2d');
    if (g) {
      g.fillStyle = '#c62828';
      g.beginPath();
      g.arc(16, 16, 15, 0, 2 * Math.PI);
      g.fill();
      g.fillStyle = '#fff';
      g.font = 'bold 20px sans-serif';
      g.textAlign = 'center';
      g.textBaseline = 'middle';
      g.fillText(n > 9 ? '9+' : String(n), 16, 17);
    }
    link.href = canvas.toDataURL('image/png');
    link.setAttribute('data-unread', String(n));
  }

  function beep() {
    if (alerts.muted) return;
    try {
      const Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return;
      const ctx = alerts.audio || (alerts.audio = new Ctx());
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.frequency.value = 880;
      gain.gain.value = 0.08;
      osc.connect(gain).connect(ctx.destination);
      osc.start();
      osc.stop(ctx.currentTime + 0.15);
    } catch (e) { /* no sound is no error */ }
  }

  /** Tell the operator: sound, notification, badge. */
  function alertOperator(text, id) {
    const away = document.hidden || !document.hasFocus() || state.openId !== id;
    if (!away) return;
    alerts.unread += 1;
    updateTitle();
    beep();
    if (typeof Notification !== 'undefined' && Notification.permission === 'granted') {
      try {
        const n = new Notification('Sportello', { body: text, tag: 'sportello-' + id });
        n.onclick = function () { window.focus(); openTicket(id); };
      } catch (e) { /* some browsers refuse outside a service worker */ }
    }
  }

  /** After each queue load: new tickets alert (not those there at sign-in). */
  function noticeNewTickets() {
    const ids = state.tickets.map(function (tk) { return tk.id; });
    if (alerts.known !== null && state.view === 'all' && !state.query) {
      visibleTickets().forEach(function (tk) {
        if (alerts.known.indexOf(tk.id) === -1 && tk.status === 'queued') {
          alertOperator(t('alert_new_ticket', { id: tk.id }), tk.id);
        }
      });
    }
    if (state.view === 'all' && !state.query) alerts.known = ids;
    // Admins hear of a ticket whose estimates kept failing (never silence after apologies).
    if (state.me && state.me.role === 'admin') {
      const first = alerts.escalated === undefined;
      alerts.escalated = alerts.escalated || [];
      state.tickets.forEach(function (tk) {
        if (tk.escalated && alerts.escalated.indexOf(tk.id) === -1) {
          alerts.escalated.push(tk.id);
          if (!first) alertOperator(t('alert_escalated', { id: tk.id }), tk.id);
        }
      });
    }
  }

  /** A customer's message on a ticket the operator holds. */
  function noticeReply(data) {
    if (!data.from_customer || data.ticket === null || data.ticket === undefined) return;
    const id = Number(data.ticket);
    const tk = state.tickets.find(function (x) { return x.id === id; });
    if (tk && state.me && tk.operator === state.me.name && tk.status === 'claimed') {
      alertOperator(t('alert_reply', { id: id }), id);
    }
  }

  function renderMute() {
    const b = $('mute');
    b.textContent = alerts.muted ? t('sound_off_short') : t('sound_on_short');
    b.setAttribute('aria-pressed', alerts.muted ? 'true' : 'false');
    b.title = alerts.muted ? t('mute') : t('unmute');
    b.setAttribute('aria-label', b.title);
  }

  // ---- Admin -------------------------------------------------------------
  // Operators (admins: add, remove, new password) and your own API tokens, so that
  // the shop runs without the command line.

  function adminError(text) {
    $('admin-error').textContent = text || '';
    $('admin-error').hidden = !text;
  }

  async function openAdmin() {
    adminError('');
    $('admin-token-shown').hidden = true;
    $('admin').hidden = false;
    const select = $('admin-department');
    select.textContent = '';
    allDepartments().forEach(function (d) { select.appendChild(new Option(d, d)); });
    const isAdmin = state.me && state.me.role === 'admin';
    $('admin-add').hidden = !isAdmin;
    $('admin-canned').hidden = !isAdmin;
    await Promise.all([renderOperators(), renderTokens(), renderHours(), isAdmin ? renderCannedEditor() : null]);
  }

  /** Each day's spans as text; consecutive days with the same spans grouped. */
  function weekText(week) {
    const names = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
    const days = t('days');
    const spans = names.map(function (d) { return (week && week[d] || []).join(', ') || t('hours_closed_day'); });
    const parts = [];
    let i = 0;
    while (i < 7) {
      let j = i;
      while (j + 1 < 7 && spans[j + 1] === spans[i]) j++;
      parts.push((j > i ? days[i] + '–' + days[j] : days[i]) + ' ' + spans[i]);
      i = j + 1;
    }
    return parts.join('; ');
  }

  /** Departments with their hours, state now, target, keywords and people (read-only). */
  async function renderHours() {
    const body = $('admin-hours-rows');
    body.textContent = '';
    let data;
    try { data = await api('GET', '/api/v1/hours'); } catch (e) { adminError(e.message); return; }
    const closures = {};
    (data.departments || []).forEach(function (d) {
      const h = d.hours || {};
      const row = el('tr', 'hours-row');
      row.setAttribute('data-department', d.name);
      const label = (d.label && (d.label[state.lang] || d.label.it || d.label.en)) || d.name;
      const name = el('th', null, label + (d['default'] ? ' ' + t('hours_default') : ''));
      name.scope = 'row';
      row.appendChild(name);
      row.appendChild(el('td', 'hours-week', weekText(h.week) + (d.own_hours ? ' (' + t('hours_own') + ')' : '')));
      const now = h.open_now ? t('hours_open')
        : h.next_opening ? t('hours_opens', { t: when(h.next_opening) }) : t('hours_closed_long');
      row.appendChild(el('td', h.open_now ? 'hours-now open' : 'hours-now', now));
      row.appendChild(el('td', null, d.sla_first_response_minutes != null
        ? t('hours_minutes', { n: d.sla_first_response_minutes }) : t('hours_none')));
      row.appendChild(el('td', 'hours-people', (d.operators || []).join(', ') || t('hours_none')));
      row.appendChild(el('td', null, (d.keywords || []).join(', ') || t('hours_none')));
      body.appendChild(row);
      (h.closed_days || []).forEach(function (day) { closures[day] = true; });
    });
    const days = Object.keys(closures).sort();
    $('admin-closures').textContent = days.length ? t('hours_closures', { days: days.join(', ') }) : '';
    $('admin-closures').hidden = !days.length;
  }

  /** The ready replies as editable rows (admins). */
  async function renderCannedEditor() {
    const box = $('admin-canned-list');
    box.textContent = '';
    let list = [];
    try { list = await api('GET', '/api/v1/canned'); } catch (e) { adminError(e.message); return; }
    (Array.isArray(list) ? list : []).forEach(addCannedRow);
  }

  function addCannedRow(c) {
    const row = el('div', 'canned-row');
    const title = el('input', 'canned-title');
    title.value = (c && c.title) || '';
    const lang = el('select', 'canned-lang');
    [['', t('admin_any_lang')], ['it', 'it'], ['en', 'en']].forEach(function (o) {
      lang.appendChild(new Option(o[1], o[0]));
    });
    lang.value = (c && c.lang) || '';
    const text = el('textarea', 'canned-text');
    text.rows = 2;
    text.value = (c && c.text) || '';
    const remove = el('button', 'ghost', t('admin_remove'));
    remove.type = 'button';
    remove.addEventListener('click', function () { row.remove(); });
    [title, lang, text, remove].forEach(function (n) { row.appendChild(n); });
    $('admin-canned-list').appendChild(row);
  }

  async function saveCanned() {
    const rows = Array.prototype.slice.call(document.querySelectorAll('#admin-canned-list .canned-row'));
    const list = rows.map(function (row) {
      const lang = row.querySelector('.canned-lang').value;
      return {
        title: row.querySelector('.canned-title').value.trim(),
        text: row.querySelector('.canned-text').value,
        lang: lang || null,
      };
    });
    try {
      await api('PUT', '/api/v1/canned', list);
      adminError('');
      $('admin-token-shown').textContent = t('admin_canned_saved');
      $('admin-token-shown').hidden = false;
    } catch (e) { adminError(e.message); }
  }

  async function renderOperators() {
    const list = $('admin-operators');
    list.textContent = '';
    let ops = [];
    try { ops = (await api('GET', '/api/v1/operators')).operators || []; } catch (e) { adminError(e.message); return; }
    state.operators = ops;
    const isAdmin = state.me && state.me.role === 'admin';
    ops.forEach(function (op) {
      const li = el('li', 'admin-operator', op.name + ' · ' + op.role + ' · ' + (op.departments || []).join(', '));
      li.setAttribute('data-name', op.name);
      if (isAdmin || (state.me && op.name === state.me.name)) {
        const reset = el('button', 'ghost admin-reset', t('admin_reset'));
        reset.type = 'button';
        reset.addEventListener('click', async function () {
          // Your own password is changed with the current one.
          const own = state.me && op.name === state.me.name;
          const current = own ? window.prompt(t('admin_current_prompt')) : null;
          if (own && !current) return;
          const password = window.prompt(t('admin_reset_prompt', { name: op.name }));
          if (!password) return;
          const body = own ? { password: password, current: current } : { password: password };
          try {
            await api('POST', '/api/v1/operators/' + encodeURIComponent(op.name) + '/password', body);
            adminError('');
            $('admin-token-shown').textContent = t('admin_reset_done', { name: op.name });
            $('admin-token-shown').hidden = false;
          } catch (e) { adminError(e.message); }
        });
        li.appendChild(reset);
      }
      if (isAdmin) {
        const edit = el('button', 'ghost admin-edit', t('admin_edit'));
        edit.type = 'button';
        edit.addEventListener('click', function () { editAccess(li, op); });
        li.appendChild(edit);
      }
      if (isAdmin && state.me && op.name !== state.me.name) {
        const remove = el('button', 'ghost admin-remove', t('admin_remove'));
        remove.type = 'button';
        remove.addEventListener('click', async function () {
          try {
            await api('DELETE', '/api/v1/operators/' + encodeURIComponent(op.name));
            await Promise.all([renderOperators(), renderHours()]);
          } catch (e) { adminError(e.message); }
        });
        li.appendChild(remove);
      }
      list.appendChild(li);
    });
  }

  /** An operator's role and departments, edited in place (admins). */
  function editAccess(li, op) {
    if (li.querySelector('.admin-access')) return;
    const form = el('form', 'admin-access');
    const role = el('select', 'admin-access-role');
    ['operator', 'admin'].forEach(function (r) { role.appendChild(new Option(r, r)); });
    role.value = op.role;
    form.appendChild(role);
    allDepartments().forEach(function (d) {
      const label = el('label', 'admin-access-department');
      const box = el('input');
      box.type = 'checkbox';
      box.value = d;
      box.checked = (op.departments || []).indexOf(d) >= 0;
      label.appendChild(box);
      label.appendChild(document.createTextNode(' ' + d));
      form.appendChild(label);
    });
    const save = el('button', 'admin-access-save', t('admin_save'));
    save.type = 'submit';
    form.appendChild(save);
    form.addEventListener('submit', async function (e) {
      e.preventDefault();
      const departments = Array.prototype.slice.call(form.querySelectorAll('input[type=checkbox]:checked'))
        .map(function (b) { return b.value; });
      try {
        await api('PUT', '/api/v1/operators/' + encodeURIComponent(op.name), { role: role.value, departments: departments });
        adminError('');
        $('admin-token-shown').textContent = t('admin_saved', { name: op.name });
        $('admin-token-shown').hidden = false;
        if (state.me && op.name === state.me.name) {
          const me = await api('GET', '/api/v1/me');
          state.me.role = me.role;
          state.me.departments = me.departments || [];
        }
        await Promise.all([renderOperators(), renderHours()]);
      } catch (err) { adminError(err.message); }
    });
    li.after(form);
    role.focus();
  }

  async function renderTokens() {
    const list = $('admin-tokens');
    list.textContent = '';
    let tokens = [];
    try { tokens = (await api('GET', '/api/v1/tokens')).tokens || []; } catch (e) { adminError(e.message); return; }
    tokens.forEach(function (tok) {
      const used = tok.last_used_at ? t('admin_used', { t: when(tok.last_used_at) }) : t('admin_never_used');
      const li = el('li', 'admin-token', (tok.label || tok.id) + ' · ' + used);
      li.setAttribute('data-id', tok.id);
      const revoke = el('button', 'ghost admin-revoke', t('admin_revoke'));
      revoke.type = 'button';
      revoke.addEventListener('click', async function () {
        try {
          await api('DELETE', '/api/v1/tokens/' + encodeURIComponent(tok.id));
          await renderTokens();
        } catch (e) { adminError(e.message); }
      });
      li.appendChild(revoke);
      list.appendChild(li);
    });
  }

  function wireAdmin() {
    $('admin-open').addEventListener('click', openAdmin);
    $('admin-canned-add').addEventListener('click', function () { addCannedRow(null); });
    $('admin-canned-save').addEventListener('click', saveCanned);
    $('admin-close').addEventListener('click', function () { $('admin').hidden = true; });
    $('admin-add').addEventListener('submit', async function (e) {
      e.preventDefault();
      try {
        await api('POST', '/api/v1/operators', {
          name: $('admin-name').value.trim(),
          password: $('admin-password').value,
          departments: [$('admin-department').value],
          role: $('admin-role').value,
        });
        $('admin-name').value = '';
        $('admin-password').value = '';
        adminError('');
        await Promise.all([renderOperators(), renderHours()]);
      } catch (err) { adminError(err.message); }
    });
    $('admin-token-form').addEventListener('submit', async function (e) {
      e.preventDefault();
      try {
        const made = await api('POST', '/api/v1/tokens', { label: $('admin-token-label').value.trim() });
        $('admin-token-label').value = '';
        $('admin-token-shown').textContent = t('admin_token_once', { token: made.token });
        $('admin-token-shown').hidden = false;
        await renderTokens();
      } catch (err) { adminError(err.message); }
    });
  }

  function wireAlerts() {
    $('mute').addEventListener('click', function () {
      alerts.muted = !alerts.muted;
      try { localStorage.setItem(MUTE_KEY, alerts.muted ? '1' : '0'); } catch (e) { /* ignore */ }
      renderMute();
    });
    $('alerts').addEventListener('click', function () {
      if (typeof Notification !== 'undefined' && Notification.permission === 'default') {
        Notification.requestPermission();
      }
      beep();
    });
    window.addEventListener('focus', function () {
      alerts.unread = 0;
      updateTitle();
    });
    renderMute();
  }

  // ---- Start, setup, login ---------------------------------------------

  /** First step: setup needed? signed in? */
  async function start() {
    showView('boot');
    $('boot').textContent = t('loading');
    let setup;
    try {
      setup = await api('GET', '/api/v1/setup');
    } catch (err) {
      $('boot').textContent = t('bootError');
      setTimeout(start, 5000);
      return;
    }
    if (setup.needed) {
      await showSetup();
      return;
    }
    try {
      const me = await api('GET', '/api/v1/me');
      enterApp(me);
    } catch (err) {
      if (err.status === 401) {
        showLogin('');
      } else {
        $('boot').textContent = t('bootError');
        setTimeout(start, 5000);
      }
    }
  }

  /** The setup form, with the departments as checkboxes (or a text field). */
  async function showSetup() {
    const token = new URLSearchParams(location.search).get('setup');
    $('setup-token-row').hidden = !!token;
    let departments = null;
    try {
      const data = await api('GET', '/api/v1/departments');
      if (Array.isArray(data.departments) && data.departments.length) departments = data.departments;
    } catch (e) {
      departments = null;
    }
    let box = $('setup-departments');
    if (departments) {
      if (box.tagName === 'INPUT') {
        const div = el('div', 'checks');
        div.id = 'setup-departments';
        box.replaceWith(div);
        box = div;
      }
      box.textContent = '';
      departments.forEach(function (name) {
        const label = el('label', 'check');
        const input = document.createElement('input');
        input.type = 'checkbox';
        input.name = 'department';
        input.value = name;
        label.appendChild(input);
        label.appendChild(document.createTextNode(' ' + name));
        box.appendChild(label);
      });
    } else if (box.tagName !== 'INPUT') {
      // No list from the server: one text field, names separated by commas.
      const input = document.createElement('input');
      input.type = 'text';
      input.id = 'setup-departments';
      input.name = 'departments';
      input.placeholder = 'vendite, resi';
      input.setAttribute('aria-label', t('departmentsText'));
      box.replaceWith(input);
    }
    showView('setup');
    $('setup-name').focus();
  }

  /** The departments chosen in the setup form. */
  function setupDepartments() {
    const box = $('setup-departments');
    if (box.tagName === 'INPUT') {
      return box.value.split(',').map(function (s) { return s.trim(); }).filter(Boolean);
    }
    return Array.prototype.map.call(box.querySelectorAll('input[type=checkbox]:checked'), function (c) {
      return c.value;
    });
  }

  async function onSetupSubmit(e) {
    e.preventDefault();
    const error = $('setup-error');
    error.hidden = true;
    const token = new URLSearchParams(location.search).get('setup') || $('setup-token').value.trim();
    if (!token) {
      error.textContent = t('setupNoToken');
      error.hidden = false;
      $('setup-token-row').hidden = false;
      $('setup-token').focus();
      return;
    }
    const button = $('setup-submit');
    button.disabled = true;
    try {
      const me = await api('POST', '/api/v1/setup', {
        token: token,
        name: $('setup-name').value.trim(),
        password: $('setup-password').value,
        departments: setupDepartments(),
      });
      $('setup-password').value = '';
      // The setup code is spent: take it out of the address bar.
      history.replaceState(null, '', location.pathname + location.hash);
      enterApp(me);
    } catch (err) {
      // 403 here is a wrong setup code (not "only an admin can do this").
      const badToken = err.status === 403 && err.data.code !== 'csrf';
      if (err.data && err.data.code === 'setup_done') {
        // Someone set the shop up meanwhile: the login is the way in.
        showView('login');
        return;
      }
      error.textContent = badToken ? t('setupBadToken') : err.message;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  }

  function showLogin(message) {
    showView('login');
    const error = $('login-error');
    error.textContent = message || '';
    error.hidden = !message;
    const name = $('login-name');
    (name.value ? $('login-password') : name).focus();
  }

  async function onLoginSubmit(e) {
    e.preventDefault();
    const error = $('login-error');
    error.hidden = true;
    const button = $('login-submit');
    button.disabled = true;
    try {
      const me = await api('POST', '/api/v1/login', {
        name: $('login-name').value.trim(),
        password: $('login-password').value,
      });
      $('login-password').value = '';
      enterApp(me);
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
      $('login-password').select();
    } finally {
      button.disabled = false;
    }
  }

  /** The session is gone (401): back to the login form. */
  function sessionExpired() {
    if (!state.me) return;
    leaveApp();
    showLogin(t('sessionExpired'));
  }

  /** Forgets the signed-in operator and stops live updates. */
  function leaveApp() {
    state.me = null;
    state.csrf = null;
    state.detail = null;
    state.tickets = [];
    if (state.es) { state.es.close(); state.es = null; }
    updateTitle();
  }

  async function logout() {
    try { await api('POST', '/api/v1/logout'); } catch (e) { /* signed out anyway */ }
    leaveApp();
    showLogin('');
  }

  // ---- Main view --------------------------------------------------------

  /** Signed in: show the console, load the lists, go live. */
  async function enterApp(me) {
    state.me = { name: me.name, role: me.role, departments: Array.isArray(me.departments) ? me.departments : [] };
    state.csrf = me.csrf || null;
    $('me-name').textContent = me.name;
    $('admin-open').hidden = false;
    $('me-name').title = me.role === 'admin' ? me.name + ' (admin)' : me.name;
    try {
      const saved = localStorage.getItem(FILTER_KEY);
      if (saved) state.filter = saved;
    } catch (e) { /* ignore */ }
    showView('app');
    renderFilter();
    renderQueue();

    const [deps, ops] = await Promise.all([
      api('GET', '/api/v1/departments').catch(function () { return {}; }),
      api('GET', '/api/v1/operators').catch(function () { return {}; }),
    ]);
    if (!state.me) return;
    state.departments = Array.isArray(deps.departments) ? deps.departments : [];
    state.operators = Array.isArray(ops.operators) ? ops.operators : [];
    renderFilter();
    renderTransferOptions();
    renderViews();
    await refreshQueue();
    openEvents();
    route();
    showContentErrors();
  }

  /** The views (all, mine, unassigned, closed) and the search box. */
  function renderViews() {
    Array.prototype.forEach.call(document.querySelectorAll('#views button'), function (b) {
      const on = b.getAttribute('data-view') === state.view;
      b.classList.toggle('selected', on);
      b.setAttribute('aria-selected', on ? 'true' : 'false');
    });
    $('ticket-search').placeholder = t('search_placeholder');
  }

  let searchTimer = null;
  function wireViews() {
    Array.prototype.forEach.call(document.querySelectorAll('#views button'), function (b) {
      b.addEventListener('click', function () {
        state.view = b.getAttribute('data-view');
        renderViews();
        refreshQueue();
      });
    });
    $('ticket-search').addEventListener('input', function () {
      clearTimeout(searchTimer);
      searchTimer = setTimeout(function () {
        state.query = $('ticket-search').value.trim();
        refreshQueue();
      }, 250);
    });
  }

  /** What is wrong in the content folders, where people look. */
  async function showContentErrors() {
    const banner = $('content-banner');
    let data;
    try { data = await api('GET', '/api/v1/content'); } catch (e) { return; }
    const errors = Array.isArray(data.errors) ? data.errors : [];
    banner.textContent = '';
    banner.hidden = errors.length === 0;
    if (!errors.length) return;
    banner.appendChild(el('p', null, t('content_errors', { n: errors.length })));
    const list = el('ul');
    errors.forEach(function (e) {
      list.appendChild(el('li', null, e.path + ':' + e.line + ': ' + e.message));
    });
    banner.appendChild(list);
  }

  /** Every department we know of: the list, mine, the operators'. */
  function allDepartments() {
    const set = new Set(state.departments);
    (state.me ? state.me.departments : []).forEach(function (d) { set.add(d); });
    return Array.from(set).sort(function (a, b) { return a.localeCompare(b); });
  }

  /** The department filter: mine, all, then each department. */
  function renderFilter() {
    const select = $('department-filter');
    select.textContent = '';
    const mine = state.me && state.me.departments.length
      ? t('filterMine') + ' (' + state.me.departments.join(', ') + ')'
      : t('filterMine');
    select.appendChild(new Option(mine, 'mine'));
    select.appendChild(new Option(t('filterAll'), 'all'));
    allDepartments().forEach(function (d) { select.appendChild(new Option(d, 'department:' + d)); });
    const values = Array.prototype.map.call(select.options, function (o) { return o.value; });
    if (values.indexOf(state.filter) === -1) state.filter = 'mine';
    select.value = state.filter;
  }

  /** The queue as the department filter shows it. */
  function visibleTickets() {
    const me = state.me;
    return state.tickets.filter(function (tk) {
      if (state.filter === 'all') return true;
      if (state.filter.indexOf('department:') === 0) return tk.department === state.filter.slice(11);
      // mine: my departments, tickets I hold, and tickets with no department
      if (!me || me.departments.length === 0) return true;
      return !tk.department || me.departments.indexOf(tk.department) !== -1 || tk.operator === me.name;
    });
  }

  // ---- Queue ------------------------------------------------------------

  /** GET /queue and redraw; parallel calls collapse into one more round. */
  function refreshQueue() {
    if (state.queueRun) { state.queueAgain = true; return state.queueRun; }
    state.queueRun = (async function () {
      await null; // finish asynchronously, after state.queueRun is set
      do {
        state.queueAgain = false;
        if (!state.me) break;
        try {
          const plain = state.view === 'all' && !state.query;
          const data = plain
            ? await api('GET', '/api/v1/queue')
            : await api('GET', '/api/v1/tickets?view=' + encodeURIComponent(state.view) +
                '&q=' + encodeURIComponent(state.query));
          if (!plain) data.now = data.now || new Date().toISOString();
          state.tickets = Array.isArray(data.tickets) ? data.tickets : [];
          noticeNewTickets();
          const now = Date.parse(data.now);
          state.skew = isNaN(now) ? 0 : now - Date.now();
          renderQueue();
        } catch (err) {
          // keep what is on screen; the next event retries
        }
      } while (state.queueAgain);
      state.queueRun = null;
    })();
    return state.queueRun;
  }

  /** Seconds a ticket has waited, on the server's clock. */
  function waitedSeconds(ticket) {
    const opened = Date.parse(ticket.opened_at);
    if (!isNaN(opened)) return Math.max(0, (Date.now() + state.skew - opened) / 1000);
    return typeof ticket.waiting_s === 'number' ? ticket.waiting_s : 0;
  }

  /** "< 1 min", "3 min", "1 h 5 min", "2 g 3 h". */
  function formatWait(seconds) {
    const mins = Math.floor(seconds / 60);
    if (mins < 1) return t('lessMin');
    if (mins < 60) return t('mins', { m: mins });
    const h = Math.floor(mins / 60);
    if (h < 24) return mins % 60 ? t('hoursMins', { h: h, m: mins % 60 }) : t('hours', { h: h });
    return t('days', { d: Math.floor(h / 24), h: h % 24 });
  }

  /** Refreshes every waiting time on screen. */
  function updateWaits() {
    document.querySelectorAll('[data-wait-for]').forEach(function (node) {
      const id = Number(node.getAttribute('data-wait-for'));
      const ticket = state.tickets.find(function (tk) { return tk.id === id; }) ||
        (state.detail && state.detail.ticket.id === id ? state.detail.ticket : null);
      if (!ticket) return;
      const waited = waitedSeconds(ticket);
      const w = formatWait(waited);
      node.textContent = node.classList.contains('long') ? t('waitingFor', { w: w }) : w;
      node.classList.toggle('late', waited >= 600);
    });
  }

  /** "asked" -> "ha chiesto una persona", "intent:X" -> "X". */
  function reasonText(reason) {
    if (!reason) return '';
    const r = String(reason);
    if (r.indexOf('intent:') === 0) return r.slice(7);
    const key = 'reason_' + r;
    return STRINGS.it[key] ? t(key) : r;
  }

  function statusText(status) {
    return STRINGS.it['status_' + status] ? t('status_' + status) : String(status || '');
  }

  function priorityText(priority) {
    return STRINGS.it['prio_' + priority] ? t('prio_' + priority) : String(priority || '');
  }

  /** "in carico a anna" / "in carico a te". */
  function holderText(ticket) {
    if (!ticket.operator) return '';
    return state.me && ticket.operator === state.me.name ? t('takenByMe') : t('takenBy', { op: ticket.operator });
  }

  function truncate(text, max) {
    const s = String(text || '').replace(/\s+/g, ' ').trim();
    return s.length > max ? s.slice(0, max - 1) + '…' : s;
  }

  /** The small badges of a ticket: channel, language, department, priority. */
  function badges(ticket, withStatus) {
    const frag = document.createDocumentFragment();
    if (ticket.channel) frag.appendChild(el('span', 'badge channel channel-' + String(ticket.channel).replace(/[^a-z0-9_-]/gi, ''), ticket.channel));
    if (ticket.lang) frag.appendChild(el('span', 'badge lang', String(ticket.lang).toUpperCase()));
    frag.appendChild(el('span', 'badge dept', ticket.department || t('noDepartment')));
    if (ticket.priority) {
      const p = el('span', 'badge prio prio-' + String(ticket.priority).replace(/[^a-z]/gi, ''), priorityText(ticket.priority));
      p.title = t('priority', { p: priorityText(ticket.priority) });
      frag.appendChild(p);
    }
    // First-response target of the department: flagged when close or past.
    if (ticket.sla === 'near' || ticket.sla === 'breached') {
      frag.appendChild(el('span', 'badge sla sla-' + ticket.sla, t('sla_' + ticket.sla)));
    }
    if (withStatus && ticket.status) {
      frag.appendChild(el('span', 'badge status status-' + String(ticket.status).replace(/[^a-z]/gi, ''), statusText(ticket.status)));
    }
    return frag;
  }

  /** One queue item: a button.ticket[data-id] in a list item. */
  function ticketNode(ticket) {
    const item = el('div', 'ticket-item');
    item.setAttribute('role', 'listitem');
    const b = el('button', 'ticket');
    b.type = 'button';
    b.setAttribute('data-id', String(ticket.id));
    if (ticket.priority === 'urgent' || ticket.priority === 'high') b.classList.add('prio-' + ticket.priority);
    if (ticket.status) b.classList.add('status-' + String(ticket.status).replace(/[^a-z]/gi, ''));
    if (state.me && ticket.operator === state.me.name) b.classList.add('mine');
    if (ticket.id === state.openId) {
      b.classList.add('selected');
      b.setAttribute('aria-current', 'true');
    }

    const row1 = el('span', 'row row1');
    row1.appendChild(el('span', 'tid', '#' + ticket.id));
    row1.appendChild(el('span', 'who', ticket.name || ticket.customer));
    const waited = waitedSeconds(ticket);
    const wait = el('span', 'wait' + (waited >= 600 ? ' late' : ''), formatWait(waited));
    wait.setAttribute('data-wait-for', String(ticket.id));
    row1.appendChild(wait);
    b.appendChild(row1);

    const row2 = el('span', 'row badges');
    row2.appendChild(badges(ticket, false));
    b.appendChild(row2);

    if (ticket.escalated) {
      b.classList.add('escalated');
      b.appendChild(el('span', 'row escalated-mark', t('escalated')));
    }
    if (ticket.reason) b.appendChild(el('span', 'row reason', reasonText(ticket.reason)));
    if (ticket.summary) b.appendChild(el('span', 'row summary', truncate(ticket.summary, 140)));
    if (ticket.status === 'claimed' || ticket.operator) {
      b.appendChild(el('span', 'row holder', statusText(ticket.status) + (ticket.operator ? ' · ' + holderText(ticket) : '')));
    }
    b.addEventListener('click', function () { openTicket(ticket.id); });
    item.appendChild(b);
    return item;
  }

  /** Redraws #queue and #queue-count, keeping keyboard focus on the same ticket. */
  function renderQueue() {
    const queue = $('queue');
    const focused = document.activeElement && document.activeElement.classList &&
      document.activeElement.classList.contains('ticket') ? document.activeElement.getAttribute('data-id') : null;
    const shown = visibleTickets();
    queue.textContent = '';
    if (shown.length === 0) {
      const empty = el('div', 'empty');
      const hidden = state.tickets.length - shown.length;
      empty.appendChild(el('p', 'empty-title', hidden ? t('emptyFiltered') : t('emptyQueue')));
      empty.appendChild(el('p', 'empty-hint', hidden ? t('emptyFilteredHint', { n: hidden }) : t('emptyQueueHint')));
      queue.appendChild(empty);
    } else {
      shown.forEach(function (ticket) { queue.appendChild(ticketNode(ticket)); });
    }
    $('queue-count').textContent = String(shown.length);
    if (focused) {
      const again = queue.querySelector('.ticket[data-id="' + focused + '"]');
      if (again) again.focus();
    }
    updateTitle();
  }

  // ---- Ticket -----------------------------------------------------------

  /**
   * Opens a ticket at once (a key pressed next acts on it, not on the one before) and
   * names it in the URL hash (#t=ID), so a reload keeps it.
   */
  function openTicket(id) {
    selectTicket(id);
    if (location.hash !== '#t=' + id) {
      location.hash = 't=' + id;
    }
  }

  /** Reads the hash and shows that ticket (or none). */
  function route() {
    if (!state.me) return;
    const m = /^#t=(\d+)$/.exec(location.hash);
    if (m) selectTicket(Number(m[1]));
    else deselectTicket();
  }

  /** Keeps the drafts of the ticket we leave. */
  function saveDrafts() {
    if (state.openId === null) return;
    state.drafts[state.openId] = { reply: $('reply-text').value, note: $('note-text').value };
  }

  function selectTicket(id) {
    if (id !== state.openId) {
      saveDrafts();
      state.openId = id;
      state.detail = null;
      const draft = state.drafts[id] || { reply: '', note: '' };
      $('reply-text').value = draft.reply;
      $('note-text').value = draft.note;
      showActionError('');
      $('ticket').hidden = true;
      $('ticket-empty').hidden = false;
      $('ticket-empty').firstElementChild.textContent = t('loadingTicket');
      markSelected();
    }
    $('app').classList.add('ticket-open');
    refreshTicket();
  }

  function deselectTicket() {
    saveDrafts();
    const was = state.openId;
    state.openId = null;
    state.detail = null;
    $('ticket').hidden = true;
    $('ticket-empty').hidden = false;
    $('ticket-empty').firstElementChild.textContent = t('pickTicket');
    $('app').classList.remove('ticket-open');
    markSelected();
    if (was !== null) {
      const item = $('queue').querySelector('.ticket[data-id="' + was + '"]');
      if (item && window.matchMedia('(max-width: 799px)').matches) item.focus();
    }
  }

  /** Highlights the open ticket in the queue. */
  function markSelected() {
    document.querySelectorAll('#queue .ticket').forEach(function (b) {
      const on = Number(b.getAttribute('data-id')) === state.openId;
      b.classList.toggle('selected', on);
      if (on) b.setAttribute('aria-current', 'true');
      else b.removeAttribute('aria-current');
    });
  }

  /** GET the open ticket and redraw it; parallel calls collapse. */
  function refreshTicket() {
    if (state.ticketRun) { state.ticketAgain = true; return state.ticketRun; }
    state.ticketRun = (async function () {
      await null; // finish asynchronously, after state.ticketRun is set
      do {
        state.ticketAgain = false;
        const id = state.openId;
        if (id === null || !state.me) break;
        try {
          const detail = await api('GET', '/api/v1/tickets/' + id);
          if (state.openId !== id) continue;
          const first = !state.detail;
          state.detail = detail;
          renderTicket(first);
        } catch (err) {
          if (state.openId !== id || err.status === 401) continue;
          if (err.status === 404) {
            state.detail = null;
            $('ticket').hidden = true;
            $('ticket-empty').hidden = false;
            $('ticket-empty').firstElementChild.textContent = t('notFound');
          } else if (state.detail) {
            showActionError(err.message);
          } else {
            $('ticket-empty').firstElementChild.textContent = err.message;
          }
        }
      } while (state.ticketAgain);
      state.ticketRun = null;
    })();
    return state.ticketRun;
  }

  function isMine(ticket) {
    return !!state.me && ticket.status === 'claimed' && ticket.operator === state.me.name;
  }

  function isOpenStatus(ticket) {
    return ticket.status === 'queued' || ticket.status === 'claimed';
  }

  /** Short date and time, or just the time for today. */
  function when(at) {
    const d = new Date(at);
    if (isNaN(d.getTime())) return '';
    const today = new Date();
    if (d.toDateString() === today.toDateString()) {
      return d.toLocaleTimeString(locale(), { hour: '2-digit', minute: '2-digit' });
    }
    return d.toLocaleString(locale(), { day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit' });
  }

  function timeNode(at) {
    const node = el('time', 'time', when(at));
    if (at) node.dateTime = at;
    return node;
  }

  /** Draws the open ticket; scrolls the transcript down on first show or when already at the bottom. */
  /** Someone is typing in the open ticket: say so for a few seconds. */
  let typingTimer = null;
  function showTyping(text) {
    const note = $('typing');
    note.textContent = text;
    note.hidden = false;
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { note.hidden = true; }, 6000);
  }

  /** Tell the customer's chat the operator is typing, at most every 3 seconds. */
  let typingSent = 0;
  function sayTyping() {
    if (state.openId === null || !$('reply-text').value.trim() || Date.now() - typingSent < 3000) return;
    typingSent = Date.now();
    api('POST', '/api/v1/tickets/' + state.openId + '/typing').catch(function () { /* only a hint */ });
  }

  /** The ticket's order, fetched from the shop's platform on demand. */
  async function showOrder(id) {
    const card = $('order-card');
    card.hidden = false;
    card.setAttribute('data-ticket', String(id));
    card.textContent = t('order_loading');
    let order, verification;
    try {
      const found = await api('GET', '/api/v1/tickets/' + id + '/order');
      order = found.order;
      verification = found.verification;
    } catch (e) {
      card.textContent = '';
      card.appendChild(el('p', 'order-error', e.message));
      return;
    }
    card.textContent = '';
    const head = el('h3', null, t('order_title', { n: order.number }));
    head.appendChild(el('span', 'order-status status-' + order.status, t('order_status_' + order.status)));
    card.appendChild(head);
    if (verification) {
      card.appendChild(el('p', 'order-verification verification-' + verification, t('order_' + verification)));
    }
    const items = el('ul', 'order-items');
    (order.items || []).forEach(function (item) {
      items.appendChild(el('li', null, item.quantity + ' × ' + item.name));
    });
    card.appendChild(items);
    if (order.total) {
      card.appendChild(el('p', 'order-total', t('order_total') + ': ' + order.total + ' ' + (order.currency || '')));
    }
    const ship = order.shipment;
    if (ship) {
      const line = el('p', 'order-tracking', t('order_tracking') + ': ' +
        [ship.carrier, ship.tracking_number].filter(Boolean).join(' '));
      if (ship.tracking_url && /^https?:\/\//.test(ship.tracking_url)) {
        const link = el('a', null, ship.tracking_url);
        link.href = ship.tracking_url;
        link.target = '_blank';
        link.rel = 'noopener noreferrer';
        line.appendChild(document.createTextNode(' '));
        line.appendChild(link);
      }
      card.appendChild(line);
    }
  }

  function renderTicket(first) {
    const detail = state.detail;
    if (!detail || !detail.ticket) return;
    const tk = detail.ticket;
    const conv = detail.conversation || {};

    $('ticket-empty').hidden = true;
    $('ticket').hidden = false;
    $('ticket').setAttribute('data-id', String(tk.id));

    $('ticket-title').textContent = '#' + tk.id + ' · ' + (tk.name || conv.name || tk.customer);

    const meta = $('ticket-meta');
    meta.textContent = '';
    meta.appendChild(badges(tk, true));
    if (tk.operator) meta.appendChild(el('span', 'holder', holderText(tk)));
    if (isOpenStatus(tk)) {
      const wait = el('span', 'wait long', '');
      wait.setAttribute('data-wait-for', String(tk.id));
      meta.appendChild(wait);
    }

    const sub = $('ticket-sub');
    sub.textContent = '';
    sub.appendChild(el('span', 'customer-id', tk.customer));
    if (tk.reason) sub.appendChild(el('span', 'reason', reasonText(tk.reason)));
    const orders = Array.isArray(conv.order_numbers) && conv.order_numbers.length
      ? conv.order_numbers : (tk.order_number ? [tk.order_number] : []);
    if (orders.length) sub.appendChild(el('span', 'orders', t('orders') + ': ' + orders.join(', ')));
    if (tk.opened_at) sub.appendChild(el('span', 'opened', t('opened', { t: when(tk.opened_at) })));
    if (orders.length) {
      const show = el('button', 'order-show', t('order_show'));
      show.type = 'button';
      show.id = 'order-show';
      show.addEventListener('click', function () { showOrder(tk.id); });
      sub.appendChild(show);
    }
    const card = $('order-card');
    if (card && card.getAttribute('data-ticket') !== String(tk.id)) {
      card.hidden = true;
      card.textContent = '';
    }
    const delivery = detail.delivery || {};
    if (delivery.window_closed) {
      const key = delivery.template_sent ? 'window_closed_template' : 'window_closed';
      const notice = el('span', 'window-closed', t(key));
      notice.id = 'window-closed';
      sub.appendChild(notice);
    }
    if (delivery.unreachable) {
      // A bounce, a refused address, a blocked bot: replies do not arrive.
      const notice = el('span', 'window-closed unreachable', t('unreachable', { why: delivery.unreachable }));
      notice.id = 'unreachable';
      sub.appendChild(notice);
    }

    renderTranscript(detail.transcript || [], tk, conv, first);
    renderNotes(detail.notes || []);
    renderPrevious(detail.previous || []);
    renderCanned(detail.canned || []);
    updateActions();
    updateWaits();
    markSelected();
  }

  /** The conversation: div.line.customer|bot|operator with .text, author, time and .why. */
  function renderTranscript(lines, tk, conv, first) {
    const box = $('transcript');
    const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
    box.textContent = '';
    if (!lines.length) box.appendChild(el('p', 'muted', t('emptyTranscript')));
    // The bot's decision is said once: on the message that handed the chat over.
    let handoffAt = -1;
    lines.forEach(function (line, i) {
      if (line.author === 'customer' && line.decision && line.decision.decision === 'handoff') handoffAt = i;
    });
    lines.forEach(function (line, i) {
      const author = (line.author === 'customer' || line.author === 'operator') ? line.author : 'bot';
      const div = el('div', 'line ' + author);
      if (line.seq !== undefined) div.setAttribute('data-seq', String(line.seq));

      const head = el('div', 'line-head');
      let name;
      if (author === 'customer') name = tk.name || conv.name || t('customer');
      else if (author === 'operator') name = line.operator || t('operator');
      else name = t('bot');
      head.appendChild(el('span', 'author', name));
      if (author === 'bot' && line.kind && STRINGS.it['kind_' + line.kind]) {
        head.appendChild(el('span', 'kind kind-' + line.kind, t('kind_' + line.kind)));
      }
      head.appendChild(timeNode(line.at));
      div.appendChild(head);

      const text = el('div', 'text');
      text.appendChild(author === 'customer' ? renderPlain(line.text) : renderMarkdown(line.text));
      const file = author === 'customer' && /^\[(photo|document) ([0-9a-f]{32})\]/.exec(line.text || '');
      if (file) {
        const open = el('a', 'attachment-link', t('open_attachment'));
        open.href = '/api/v1/attachments/' + file[2];
        open.target = '_blank';
        open.rel = 'noopener';
        text.appendChild(open);
      }
      div.appendChild(text);
      if (line.original) {
        // A mail: the new text above, the whole mail (quote, signature) on request.
        const whole = el('details', 'original');
        whole.appendChild(el('summary', null, t('whole_mail')));
        whole.appendChild(el('pre', null, line.original));
        div.appendChild(whole);
      }

      if (i === handoffAt) div.appendChild(whyNode(line.decision, tk));
      box.appendChild(div);
    });
    if (first || atBottom) box.scrollTop = box.scrollHeight;
  }

  /** "Decisione: answer · spedizioni · reason · candidati: spedizioni 82%, resi 41%". */
  /** Why the bot handed over, in words: from the decision's cause and the ticket's reason. */
  function plainWhy(d, tk) {
    const reason = tk && tk.reason ? String(tk.reason) : '';
    if (reason === 'complaint') return t('why_complaint');
    if (d.cause === 'second_miss') return t('why_second_miss');
    if (d.cause === 'picked_person') return t('why_picked_person');
    if (reason === 'asked') return t('why_asked');
    if (d.intent) return t('why_intent', { intent: d.intent });
    return String(d.reason || d.decision || '');
  }

  function whyNode(d, tk) {
    const parts = [plainWhy(d, tk)];
    if (Array.isArray(d.candidates) && d.candidates.length) {
      const cands = d.candidates.slice(0, 3).map(function (c) {
        const conf = Number(c.confidence);
        const pct = isNaN(conf) ? '?' : Math.round(conf <= 1 ? conf * 100 : conf) + '%';
        return c.id + ' ' + pct;
      });
      parts.push(t('candidates') + ': ' + cands.join(', '));
    }
    return el('div', 'why', t('why') + ': ' + parts.join(' · '));
  }

  /** #notes: private notes, oldest first. */
  function renderNotes(notes) {
    const box = $('notes');
    box.textContent = '';
    if (!notes.length) { box.appendChild(el('p', 'muted', t('noNotes'))); return; }
    notes.forEach(function (note) {
      const div = el('div', 'note');
      const head = el('div', 'note-head');
      head.appendChild(el('span', 'author', note.operator || t('operator')));
      head.appendChild(timeNode(note.at));
      div.appendChild(head);
      const text = el('div', 'text');
      text.appendChild(renderPlain(note.text));
      div.appendChild(text);
      box.appendChild(div);
    });
  }

  /** #previous: the customer's earlier tickets, each a link to open it. */
  function renderPrevious(previous) {
    const list = $('previous');
    list.textContent = '';
    if (!previous.length) { list.appendChild(el('li', 'muted', t('noPrevious'))); return; }
    previous.forEach(function (p) {
      const li = el('li', 'prev');
      const a = el('a', 'prev-link');
      a.href = '#t=' + p.id;
      const top = el('span', 'prev-top');
      top.appendChild(el('span', 'tid', '#' + p.id));
      top.appendChild(el('span', 'prev-date', when(p.opened_at)));
      top.appendChild(el('span', 'badge dept', p.department || t('noDepartment')));
      top.appendChild(el('span', 'badge status status-' + String(p.status).replace(/[^a-z]/gi, ''), statusText(p.status)));
      a.appendChild(top);
      if (p.summary) a.appendChild(el('span', 'prev-summary', truncate(p.summary, 120)));
      li.appendChild(a);
      list.appendChild(li);
    });
  }

  /** #canned: a placeholder, then each canned reply by title. */
  function renderCanned(canned) {
    const select = $('canned');
    select.textContent = '';
    select.appendChild(new Option(t('cannedPlaceholder'), ''));
    canned.forEach(function (c, i) {
      select.appendChild(new Option(c.title || truncate(c.text, 40), String(i)));
    });
    select.value = '';
    select.hidden = canned.length === 0;
  }

  /** #transfer-target: departments and operators, in two groups. */
  function renderTransferOptions() {
    const select = $('transfer-target');
    const keep = select.value;
    select.textContent = '';
    select.appendChild(new Option(t('transferTo'), ''));
    const deps = document.createElement('optgroup');
    deps.label = t('transferDepartments');
    allDepartments().forEach(function (d) { deps.appendChild(new Option(d, 'department:' + d)); });
    if (deps.children.length) select.appendChild(deps);
    const ops = document.createElement('optgroup');
    ops.label = t('transferOperators');
    state.operators.forEach(function (op) {
      if (!op || !op.name || (state.me && op.name === state.me.name)) return;
      const label = op.departments && op.departments.length ? op.name + ' (' + op.departments.join(', ') + ')' : op.name;
      ops.appendChild(new Option(label, 'operator:' + op.name));
    });
    if (ops.children.length) select.appendChild(ops);
    select.value = keep;
    if (select.value !== keep) select.value = '';
  }

  /** Shows the buttons the ticket's state allows; reply and notes only when it is mine. */
  function updateActions() {
    const detail = state.detail;
    if (!detail) return;
    const tk = detail.ticket;
    const mine = isMine(tk);
    const admin = state.me && state.me.role === 'admin';
    const open = isOpenStatus(tk);
    const busy = state.busy;

    // Claim stays offered on a ticket someone else holds: the server's 409 then
    // says who has it (e.g. when two operators opened it at the same time).
    $('claim').hidden = !(tk.status === 'queued' || (tk.status === 'claimed' && !mine));
    $('release').hidden = !(tk.status === 'claimed' && (mine || admin));
    $('close').hidden = !(tk.status === 'queued' || mine);
    // An admin moves a colleague's ticket by releasing it first (then it is queued).
    $('transfer').hidden = !(open && (tk.status === 'queued' || mine));
    ['claim', 'release', 'close', 'transfer-send'].forEach(function (id) { $(id).disabled = busy; });
    $('transfer-target').disabled = busy;

    $('reply-text').disabled = !mine;
    $('reply-send').disabled = !mine || busy;
    $('canned').disabled = !mine;
    $('note-text').disabled = !mine;
    $('note-send').disabled = !mine || busy;

    const hint = $('reply-hint');
    let text = '';
    if (!mine) {
      if (!open) text = t('replyClosed');
      else if (tk.status === 'claimed' && tk.operator) text = t('replyOther', { op: tk.operator });
      else text = t('replyNeedsClaim');
    }
    hint.textContent = text;
    hint.hidden = !text;
  }

  function showActionError(message) {
    const box = $('action-error');
    box.textContent = message || '';
    box.hidden = !message;
  }

  /**
   * Runs one ticket action: errors (e.g. 409 "Ticket 3 is already taken by anna",
   * translated by errorText) are shown in #action-error; queue and ticket are
   * fetched again after.
   */
  async function act(fn) {
    const id = state.openId;
    if (id === null || state.busy) return false;
    showActionError('');
    state.busy = true;
    updateActions();
    let ok = false;
    try {
      await fn(id);
      ok = true;
    } catch (err) {
      if (err.status !== 401) showActionError(err.message);
    } finally {
      state.busy = false;
      updateActions();
    }
    if (state.me) await Promise.all([refreshQueue(), refreshTicket()]);
    return ok;
  }

  const post = function (id, what, body) { return api('POST', '/api/v1/tickets/' + id + '/' + what, body); };

  function claim() { act(function (id) { return post(id, 'claim'); }); }
  // An admin's release of a colleague's ticket names the holder the console showed:
  // if someone else has it by now, the server refuses rather than take it from them.
  function release() {
    const tk = state.detail && state.detail.ticket;
    const holder = tk && tk.status === 'claimed' && !isMine(tk) ? tk.operator : null;
    act(function (id) { return post(id, 'release', holder ? { operator: holder } : undefined); });
  }
  /** Close asks first, with an optional "an FAQ answered it" (it feeds `faq suggest`). */
  async function closeTicket() {
    if (state.openId === null) return;
    const select = $('close-faq');
    select.textContent = '';
    select.appendChild(new Option(t('close_no_faq'), ''));
    try {
      const data = await api('GET', '/api/v1/faq');
      const lang = state.detail && state.detail.ticket ? state.detail.ticket.lang : null;
      (data.entries || []).filter(function (e) { return !lang || e.lang === lang; }).forEach(function (e) {
        select.appendChild(new Option(e.question + ' (' + e.id + ')', e.id));
      });
    } catch (err) { /* the picker is optional */ }
    $('close-dialog').hidden = false;
    $('close-confirm').focus();
  }

  async function confirmClose() {
    $('close-dialog').hidden = true;
    const faq = $('close-faq').value;
    const closing = state.openId;
    const ok = await act(function (id) { return post(id, 'close', faq ? { faq: faq } : {}); });
    if (ok && state.openId === closing) openNext(closing);
  }

  /** After a close: the next request in the list opens. */
  function openNext(after) {
    const shown = visibleTickets().filter(function (tk) { return tk.id !== after && tk.status !== 'closed'; });
    if (shown.length) openTicket(shown[0].id);
  }

  /** The ticket `step` places away in the list (j / k). */
  function moveBy(step) {
    const shown = visibleTickets();
    if (!shown.length) return;
    const at = shown.findIndex(function (tk) { return tk.id === state.openId; });
    const next = shown[Math.min(shown.length - 1, Math.max(0, at === -1 ? 0 : at + step))];
    if (next) openTicket(next.id);
  }

  /**
   * Runs `fn` once the opened ticket is shown: a key pressed right after j or k, while
   * the ticket still loads, waits for it instead of reading the buttons of none.
   */
  async function whenShown(fn) {
    const id = state.openId;
    if (id === null) return;
    if (!state.detail && state.ticketRun) await state.ticketRun;
    if (state.openId === id && state.detail) fn();
  }

  function onShortcut(e) {
    const target = e.target;
    const typing = target && (target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT');
    if (e.key === 'Escape') {
      $('close-dialog').hidden = true;
      $('shortcuts').hidden = true;
      return;
    }
    if (typing || e.ctrlKey || e.metaKey || e.altKey || !state.me) return;
    const keys = {
      j: function () { moveBy(1); },
      k: function () { moveBy(-1); },
      c: function () { whenShown(function () { if (!$('claim').hidden) claim(); }); },
      x: function () { whenShown(function () { if (!$('close').hidden) closeTicket(); }); },
      '/': function () { $('canned').focus(); },
      '?': function () {
        const list = $('shortcuts-list');
        list.textContent = '';
        ['sc_next', 'sc_claim', 'sc_close', 'sc_canned', 'sc_help'].forEach(function (k) {
          list.appendChild(el('li', null, t(k)));
        });
        $('shortcuts').hidden = !$('shortcuts').hidden;
      },
    };
    const run = keys[e.key];
    if (run) {
      e.preventDefault();
      run();
    }
  }

  async function transfer() {
    const value = $('transfer-target').value;
    if (!value) { $('transfer-target').focus(); return; }
    const sep = value.indexOf(':');
    const kind = value.slice(0, sep);
    const name = value.slice(sep + 1);
    const body = kind === 'operator' ? { operator: name } : { department: name };
    const ok = await act(function (id) { return post(id, 'transfer', body); });
    if (ok) $('transfer-target').value = '';
  }

  async function sendReply() {
    const box = $('reply-text');
    const text = box.value.trim();
    if (!text || box.disabled || state.busy) return;
    const ok = await act(function (id) { return post(id, 'reply', { text: text }); });
    if (ok && box.value.trim() === text) {
      box.value = '';
      if (state.openId !== null) delete state.drafts[state.openId];
    }
    if (ok) box.focus();
  }

  async function sendNote() {
    const box = $('note-text');
    const text = box.value.trim();
    if (!text || box.disabled || state.busy) return;
    const ok = await act(function (id) { return post(id, 'notes', { text: text }); });
    if (ok && box.value.trim() === text) box.value = '';
  }

  /** A canned reply goes into the reply box (after what is already there). */
  function useCanned() {
    const select = $('canned');
    const i = select.value;
    if (i === '' || !state.detail) return;
    const canned = (state.detail.canned || [])[Number(i)];
    select.value = '';
    if (!canned) return;
    const box = $('reply-text');
    box.value = box.value.trim() ? box.value.replace(/\s+$/, '') + '\n\n' + canned.text : canned.text;
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  }

  // ---- Live updates -----------------------------------------------------

  /** EventSource on /api/v1/events: `changed` -> refetch queue (and the open ticket if it is concerned). */
  function openEvents() {
    if (typeof EventSource === 'undefined' || !state.me) return;
    if (state.es) state.es.close();
    const es = new EventSource('/api/v1/events');
    state.es = es;
    es.addEventListener('open', function () {
      state.esDelay = 2000;
      refreshQueue();
      if (state.openId !== null) refreshTicket();
    });
    es.addEventListener('typing', function (e) {
      let data = {};
      try { data = JSON.parse(e.data || '{}') || {}; } catch (err) { data = {}; }
      if (state.openId === null || Number(data.ticket) !== state.openId) return;
      const who = data.typing === 'customer' ? t('customer_typing') : t('colleague_typing', { name: data.typing });
      showTyping(who);
    });
    es.addEventListener('changed', function (e) {
      let data = {};
      try { data = JSON.parse(e.data || '{}') || {}; } catch (err) { data = {}; }
      refreshQueue().then(function () { noticeReply(data); });
      if (state.openId === null) return;
      const tk = state.detail && state.detail.ticket;
      const customer = tk ? tk.customer : null;
      if ((customer && data.customer === customer) ||
          (data.ticket !== null && data.ticket !== undefined && Number(data.ticket) === state.openId)) {
        refreshTicket();
      }
    });
    es.addEventListener('error', function () {
      if (state.es !== es || es.readyState !== EventSource.CLOSED) return;
      // The browser gave up: a 401 means the session is over, else try again later.
      state.es = null;
      const delay = state.esDelay;
      state.esDelay = Math.min(state.esDelay * 2, 30000);
      setTimeout(async function () {
        if (!state.me) return;
        try {
          await api('GET', '/api/v1/me');
        } catch (err) {
          if (err.status === 401) return; // api() has shown the login form
        }
        if (state.me && !state.es) openEvents();
      }, delay);
    });
  }

  // ---- Wiring -----------------------------------------------------------

  function init() {
    applyStrings();

    $('setup-form').addEventListener('submit', onSetupSubmit);
    $('login-form').addEventListener('submit', onLoginSubmit);
    $('auth-lang').addEventListener('click', toggleLang);
    $('lang-toggle').addEventListener('click', toggleLang);
    $('logout').addEventListener('click', logout);

    wireViews();
    wireAlerts();
    wireAdmin();
    $('department-filter').addEventListener('change', function (e) {
      state.filter = e.target.value;
      try { localStorage.setItem(FILTER_KEY, state.filter); } catch (err) { /* ignore */ }
      renderQueue();
    });

    $('back').addEventListener('click', function () {
      history.pushState(null, '', location.pathname + location.search);
      route();
    });
    window.addEventListener('hashchange', route);
    window.addEventListener('popstate', route);

    $('claim').addEventListener('click', claim);
    $('release').addEventListener('click', release);
    $('close').addEventListener('click', closeTicket);
    $('close-confirm').addEventListener('click', confirmClose);
    $('close-cancel').addEventListener('click', function () { $('close-dialog').hidden = true; });
    document.addEventListener('keydown', onShortcut);
    $('transfer-send').addEventListener('click', transfer);
    $('reply-send').addEventListener('click', sendReply);
    $('note-send').addEventListener('click', sendNote);
    $('canned').addEventListener('change', useCanned);

    $('reply-text').addEventListener('input', sayTyping);
    $('reply-text').addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); sendReply(); }
    });
    $('note-text').addEventListener('keydown', function (e) {
      if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); sendNote(); }
    });

    setInterval(updateWaits, WAIT_REFRESH_MS);
    document.addEventListener('visibilitychange', function () {
      if (document.visibilityState === 'visible' && state.me) {
        refreshQueue();
        if (state.openId !== null) refreshTicket();
      }
    });

    start();
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', init);
  } else {
    init();
  }
})();
