// Sportello widget: a <script src=".../widget.js" async> tag on any page adds
// a round chat button (bottom right) that opens the Sportello web chat in an iframe.
// Attributes of the tag: data-color (the button's colour), data-position ("left" or
// "right"), data-greeting (the chat's first words). Focus moves into the chat on open
// and back to the button on close; Escape or the panel's × close it; on a phone the
// panel fills the screen; answers that arrive while it is closed show as a badge.
// Runs on the shop's page, so it keeps to one IIFE and leaves no globals behind.
(function () {
  'use strict';

  var BUTTON_ID = 'sportello-widget-button';
  var FRAME_ID = 'sportello-widget-frame';

  if (document.getElementById(BUTTON_ID)) return; // included twice

  /** This script's tag (its src says where the chat lives; its data-* set it up). */
  function findScript() {
    var script = document.currentScript;
    if (!script || !/widget\.js/.test(script.src || '')) {
      var scripts = document.getElementsByTagName('script');
      script = null;
      for (var i = scripts.length - 1; i >= 0; i--) {
        if (/\/widget\.js(\?|#|$)/.test(scripts[i].src || '')) { script = scripts[i]; break; }
      }
    }
    return script;
  }

  var script = findScript();
  var origin = null;
  try {
    origin = new URL(script.src, location.href).origin;
  } catch (e) {
    origin = null;
  }
  if (!origin) return;
  var data = function (name) { return (script.getAttribute('data-' + name) || '').trim(); };
  var color = /^#[0-9a-fA-F]{3,8}$/.test(data('color')) ? data('color') : '#1f5fbf';
  var side = data('position') === 'left' ? 'left' : 'right';
  var greeting = data('greeting').slice(0, 200);

  var lang = (document.documentElement.lang || navigator.language || 'it').toLowerCase();
  var en = lang.indexOf('en') === 0;
  var labels = en
    ? { open: 'Open the chat with customer service', close: 'Close the chat', title: 'Customer service chat' }
    : { open: "Apri la chat con l'assistenza", close: 'Chiudi la chat', title: 'Chat di assistenza' };

  /** Sets several inline styles at once. */
  function css(el, styles) {
    for (var k in styles) {
      if (Object.prototype.hasOwnProperty.call(styles, k)) el.style[k] = styles[k];
    }
  }

  /** A speech bubble drawn with two spans (no images, nothing to download). */
  function chatIcon() {
    var wrap = document.createElement('span');
    wrap.setAttribute('aria-hidden', 'true');
    css(wrap, { position: 'relative', display: 'block', width: '26px', height: '24px' });
    var bubble = document.createElement('span');
    css(bubble, {
      position: 'absolute', left: '0', top: '1px', width: '26px', height: '18px',
      borderRadius: '9px', background: '#ffffff',
    });
    var tail = document.createElement('span');
    css(tail, {
      position: 'absolute', left: '5px', top: '14px', width: '0', height: '0',
      borderLeft: '4px solid transparent', borderRight: '6px solid transparent',
      borderTop: '9px solid #ffffff', transform: 'rotate(12deg)',
    });
    wrap.appendChild(bubble);
    wrap.appendChild(tail);
    return wrap;
  }

  /** A close mark. */
  function closeIcon() {
    var x = document.createElement('span');
    x.setAttribute('aria-hidden', 'true');
    x.textContent = '\u00d7';
    css(x, { display: 'block', fontSize: '34px', lineHeight: '1', fontFamily: 'Arial, sans-serif', marginTop: '-3px' });
    return x;
  }

  var button = document.createElement('button');
  button.id = BUTTON_ID;
  button.type = 'button';
  button.setAttribute('aria-label', labels.open);
  button.setAttribute('aria-expanded', 'false');
  button.setAttribute('aria-controls', FRAME_ID);
  button.title = labels.open;
  css(button, {
    position: 'fixed',
    bottom: '20px',
    zIndex: '2147483000',
    width: '60px',
    height: '60px',
    padding: '0',
    margin: '0',
    border: '0',
    borderRadius: '50%',
    background: color,
    color: '#ffffff',
    cursor: 'pointer',
    display: 'flex',
    alignItems: 'center',
    justifyContent: 'center',
    boxShadow: '0 6px 20px rgba(0, 0, 0, 0.25)',
    transition: 'transform 0.15s ease',
  });
  button.style[side] = '20px';
  button.appendChild(chatIcon());

  /** Answers that arrived while the panel was closed. */
  var unread = 0;
  var badge = document.createElement('span');
  badge.setAttribute('data-sportello-unread', '0');
  css(badge, {
    position: 'absolute', top: '-4px', right: '-4px', minWidth: '20px', height: '20px',
    padding: '0 5px', borderRadius: '10px', background: '#d32f2f', color: '#ffffff',
    font: 'bold 12px/20px Arial, sans-serif', textAlign: 'center', display: 'none',
    boxSizing: 'border-box',
  });
  function showUnread() {
    badge.textContent = unread > 9 ? '9+' : String(unread);
    badge.style.display = unread ? 'block' : 'none';
    badge.setAttribute('data-sportello-unread', String(unread));
    var base = isOpen() ? labels.close : labels.open;
    button.setAttribute('aria-label', unread ? base + ' (' + unread + ')' : base);
  }

  var frame = null;

  /** The chat iframe, made on first open. */
  function makeFrame() {
    var f = document.createElement('iframe');
    f.id = FRAME_ID;
    f.src = origin + '/?embed=1' + (greeting ? '&greeting=' + encodeURIComponent(greeting) : '');
    f.title = labels.title;
    f.setAttribute('loading', 'eager');
    css(f, {
      position: 'fixed',
      bottom: '92px',
      zIndex: '2147483000',
      width: '360px',
      height: '560px',
      maxWidth: '100vw',
      maxHeight: '85vh',
      border: '0',
      borderRadius: '16px',
      background: '#ffffff',
      boxShadow: '0 12px 48px rgba(0, 0, 0, 0.28)',
      colorScheme: 'light',
    });
    // Keep the panel inside small screens (ignored by browsers without min()/calc()).
    f.style[side] = '20px';
    f.style.maxWidth = 'calc(100vw - 24px)';
    f.style.maxHeight = 'min(85vh, calc(100vh - 112px))';
    if (window.innerWidth < 480) {
      // A phone: the chat fills the screen; its own × closes it.
      css(f, { left: '0', right: '0', top: '0', bottom: '0', width: '100vw', height: '100vh',
               maxWidth: 'none', maxHeight: 'none', borderRadius: '0', zIndex: '2147483001' });
    }
    f.addEventListener('load', function () { if (isOpen()) focusChat(); });
    document.body.appendChild(f);
    return f;
  }

  function isOpen() {
    return !!frame && frame.style.display !== 'none';
  }

  /** Focus into the chat: the frame, and its message box. */
  function focusChat() {
    frame.focus();
    if (frame.contentWindow) frame.contentWindow.postMessage({ sportello: 'focus' }, origin);
  }

  function open() {
    if (!frame) frame = makeFrame();
    frame.style.display = 'block';
    button.setAttribute('aria-expanded', 'true');
    button.title = labels.close;
    button.replaceChild(closeIcon(), button.firstChild);
    unread = 0;
    showUnread();
    focusChat();
  }

  function close() {
    if (frame) frame.style.display = 'none';
    button.setAttribute('aria-expanded', 'false');
    button.title = labels.open;
    button.replaceChild(chatIcon(), button.firstChild);
    showUnread();
    button.focus();
  }

  // The chat tells: close (its × or Escape inside it), and each new answer.
  window.addEventListener('message', function (e) {
    if (e.origin !== origin || !e.data || typeof e.data.sportello !== 'string') return;
    if (e.data.sportello === 'close' && isOpen()) close();
    if (e.data.sportello === 'message' && !isOpen()) {
      unread += 1;
      showUnread();
    }
  });

  button.addEventListener('click', function () {
    if (isOpen()) close(); else open();
  });
  button.addEventListener('mouseenter', function () { button.style.transform = 'scale(1.06)'; });
  button.addEventListener('mouseleave', function () { button.style.transform = ''; });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && isOpen()) close();
  });

  function mount() {
    button.appendChild(badge);
    document.body.appendChild(button);
  }

  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
