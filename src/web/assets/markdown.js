// Sportello safe Markdown: the renderer shared by the web chat (chat.js) and
// the operator console (console.js). Builds DOM nodes only; text is only ever
// set as text nodes (never innerHTML), and links are made only for http(s)
// URLs, opening in a new tab with rel="noopener noreferrer".
// Defines one global: window.SportelloMarkdown = { render, plain }.
(function () {
  'use strict';

  // code | **bold** | __bold__ | [label](url) | bare URL | *italic* | _italic_
  const INLINE = /`([^`\n]+)`|\*\*(?=\S)(.*?\S)\*\*|__(?=\S)(.*?\S)__|\[([^\]\n]+)\]\(\s*([^()\s]+)\s*\)|(https?:\/\/[^\s<>"]+)|\*(?=[^\s*])([^*\n]*?[^\s*])\*|_(?=[^\s_])([^_\n]*?[^\s_])_/gi;

  /** A safe absolute http(s) URL, or null. */
  function safeUrl(url) {
    if (!/^https?:\/\//i.test(url)) return null;
    try {
      const u = new URL(url);
      return (u.protocol === 'http:' || u.protocol === 'https:') ? u.href : null;
    } catch (e) {
      return null;
    }
  }

  /** An <a> that opens in a new tab without giving it access to this page. */
  function makeLink(href) {
    const a = document.createElement('a');
    a.href = href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    return a;
  }

  /** Appends the inline Markdown of one line to parent. */
  function appendInline(parent, text, inLink) {
    const re = new RegExp(INLINE.source, INLINE.flags);
    let last = 0;
    let m;
    const plain = function (s) { if (s) parent.appendChild(document.createTextNode(s)); };
    while ((m = re.exec(text)) !== null) {
      const start = m.index;
      if (m[1] !== undefined) { // `code`
        plain(text.slice(last, start));
        const code = document.createElement('code');
        code.textContent = m[1];
        parent.appendChild(code);
      } else if (m[2] !== undefined || m[3] !== undefined) { // **bold**
        plain(text.slice(last, start));
        const b = document.createElement('strong');
        appendInline(b, m[2] !== undefined ? m[2] : m[3], inLink);
        parent.appendChild(b);
      } else if (m[4] !== undefined) { // [label](url)
        const href = safeUrl(m[5]);
        if (!href || inLink) {
          // Not a web link: show it exactly as written.
          plain(text.slice(last, start) + m[0]);
        } else {
          plain(text.slice(last, start));
          const a = makeLink(href);
          appendInline(a, m[4], true);
          parent.appendChild(a);
        }
      } else if (m[6] !== undefined) { // bare URL
        let url = m[6];
        // Sentence punctuation after a URL is not part of it.
        const trail = /[.,;:!?'»]+$|\)+$/.exec(url);
        if (trail && !(trail[0][0] === ')' && url.indexOf('(') !== -1)) {
          url = url.slice(0, url.length - trail[0].length);
          re.lastIndex = start + url.length;
        }
        const href = safeUrl(url);
        plain(text.slice(last, start));
        if (!href || inLink) {
          plain(url);
        } else {
          const a = makeLink(href);
          a.textContent = url;
          parent.appendChild(a);
        }
      } else { // *italic* or _italic_
        const isUnderscore = m[8] !== undefined;
        const before = text.charAt(start - 1);
        const after = text.charAt(start + m[0].length);
        if (isUnderscore && (/[\p{L}\p{N}]/u.test(before) || /[\p{L}\p{N}]/u.test(after))) {
          // snake_case_words are not emphasis: emit the "_" and go on.
          plain(text.slice(last, start + 1));
          last = start + 1;
          re.lastIndex = start + 1;
          continue;
        }
        plain(text.slice(last, start));
        const em = document.createElement('em');
        appendInline(em, isUnderscore ? m[8] : m[7], inLink);
        parent.appendChild(em);
      }
      last = re.lastIndex;
    }
    plain(text.slice(last));
  }

  /** Markdown text -> DocumentFragment (paragraphs, line breaks, lists, inline). */
  function renderMarkdown(text) {
    const frag = document.createDocumentFragment();
    const lines = String(text == null ? '' : text).replace(/\r\n?/g, '\n').split('\n');
    let para = null;
    let list = null;
    let item = null;
    lines.forEach(function (raw) {
      const line = raw.replace(/\s+$/, '');
      if (line.trim() === '') { para = null; list = null; item = null; return; }
      const bullet = /^\s*[-*•]\s+(.*)$/.exec(line);
      const number = /^\s*(\d{1,3})[.)]\s+(.*)$/.exec(line);
      if (bullet || number) {
        const tag = bullet ? 'UL' : 'OL';
        para = null;
        if (!list || list.tagName !== tag) {
          list = document.createElement(tag.toLowerCase());
          if (number && number[1] !== '1') list.start = parseInt(number[1], 10);
          frag.appendChild(list);
        }
        item = document.createElement('li');
        appendInline(item, bullet ? bullet[1] : number[2], false);
        list.appendChild(item);
        return;
      }
      if (item && /^\s/.test(line)) { // indented continuation of a list item
        item.appendChild(document.createElement('br'));
        appendInline(item, line.trim(), false);
        return;
      }
      list = null;
      item = null;
      if (!para) {
        para = document.createElement('p');
        frag.appendChild(para);
      } else {
        para.appendChild(document.createElement('br'));
      }
      appendInline(para, line.trim(), false);
    });
    return frag;
  }

  /** Plain text with its line breaks kept (customer messages, operator notes). */
  function renderPlain(text) {
    const frag = document.createDocumentFragment();
    String(text == null ? '' : text).replace(/\r\n?/g, '\n').split('\n').forEach(function (line, i) {
      if (i > 0) frag.appendChild(document.createElement('br'));
      if (line) frag.appendChild(document.createTextNode(line));
    });
    return frag;
  }

  window.SportelloMarkdown = Object.freeze({
    /** Markdown text -> DocumentFragment (paragraphs, line breaks, lists, inline). */
    render: renderMarkdown,
    /** Plain text -> DocumentFragment, line breaks kept as <br>. */
    plain: renderPlain,
  });
})();
