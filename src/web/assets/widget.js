// Sportello widget: a <script src=".../widget.js" async> tag on any page adds
// a round chat button (bottom right) that opens the Sportello web chat in an iframe.
// Runs on the shop's page, so it keeps to one IIFE and leaves no globals behind.
(function () {
  'use strict';

  var BUTTON_ID = 'sportello-widget-button';
  var FRAME_ID = 'sportello-widget-frame';

  if (document.getElementById(BUTTON_ID)) return; // included twice

  /** The origin this script was loaded from: where the chat lives. */
  function findOrigin() {
    var script = document.currentScript;
    if (!script || !/widget\.js/.test(script.src || '')) {
      var scripts = document.getElementsByTagName('script');
      script = null;
      for (var i = scripts.length - 1; i >= 0; i--) {
        if (/\/widget\.js(\?|#|$)/.test(scripts[i].src || '')) { script = scripts[i]; break; }
      }
    }
    try {
      return new URL(script.src, location.href).origin;
    } catch (e) {
      return null;
    }
  }

  var origin = findOrigin();
  if (!origin) return;

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
    right: '20px',
    bottom: '20px',
    zIndex: '2147483000',
    width: '60px',
    height: '60px',
    padding: '0',
    margin: '0',
    border: '0',
    borderRadius: '50%',
    background: '#1f5fbf',
    color: '#ffffff',
    cursor: 'pointer',
    display: 'flex',
    alignItems: 'center',
    justifyContent: 'center',
    boxShadow: '0 6px 20px rgba(0, 0, 0, 0.25)',
    transition: 'transform 0.15s ease',
  });
  button.appendChild(chatIcon());

  var frame = null;

  /** The chat iframe, made on first open. */
  function makeFrame() {
    var f = document.createElement('iframe');
    f.id = FRAME_ID;
    f.src = origin + '/?embed=1';
    f.title = labels.title;
    f.setAttribute('loading', 'eager');
    css(f, {
      position: 'fixed',
      right: '20px',
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
    f.style.maxWidth = 'calc(100vw - 24px)';
    f.style.maxHeight = 'min(85vh, calc(100vh - 112px))';
    if (window.innerWidth < 420) f.style.right = '12px';
    document.body.appendChild(f);
    return f;
  }

  function isOpen() {
    return !!frame && frame.style.display !== 'none';
  }

  function open() {
    if (!frame) frame = makeFrame();
    frame.style.display = 'block';
    button.setAttribute('aria-expanded', 'true');
    button.setAttribute('aria-label', labels.close);
    button.title = labels.close;
    button.replaceChild(closeIcon(), button.firstChild);
  }

  function close() {
    if (frame) frame.style.display = 'none';
    button.setAttribute('aria-expanded', 'false');
    button.setAttribute('aria-label', labels.open);
    button.title = labels.open;
    button.replaceChild(chatIcon(), button.firstChild);
  }

  button.addEventListener('click', function () {
    if (isOpen()) close(); else open();
  });
  button.addEventListener('mouseenter', function () { button.style.transform = 'scale(1.06)'; });
  button.addEventListener('mouseleave', function () { button.style.transform = ''; });
  document.addEventListener('keydown', function (e) {
    if (e.key === 'Escape' && isOpen()) { close(); button.focus(); }
  });

  function mount() { document.body.appendChild(button); }

  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount);
})();
