"""Small in-page audits (there is no axe without a CDN): names and labels, and text contrast.

Each is a JavaScript function run with page.evaluate(); it returns a list of problems, each a
short sentence naming the element, so a failing test says what to fix.
"""

# Every form control has a label, every button/link/summary a name a screen reader can read,
# every svg either a title or aria-hidden, every img an alt, and ids are unique.
NAMES_AND_LABELS = """
() => {
  const problems = [];
  const describe = (el) => {
    const id = el.id ? '#' + el.id : '';
    const cls = el.className && typeof el.className === 'string'
      ? '.' + el.className.trim().split(/\\s+/).join('.') : '';
    return `<${el.tagName.toLowerCase()}${id}${cls}>`;
  };
  const textOf = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return node.textContent;
    if (node.nodeType !== Node.ELEMENT_NODE) return '';
    if (node.getAttribute('aria-hidden') === 'true') return '';
    if (node.hasAttribute('aria-label')) return node.getAttribute('aria-label');
    return [...node.childNodes].map(textOf).join('');
  };
  const byIds = (ids) => ids.split(/\\s+/).map((id) => document.getElementById(id))
    .filter(Boolean).map((el) => el.textContent).join(' ');
  const nameOf = (el) => {
    if (el.getAttribute('aria-labelledby')) return byIds(el.getAttribute('aria-labelledby'));
    if (el.getAttribute('aria-label')) return el.getAttribute('aria-label');
    if (el.labels && el.labels.length) return [...el.labels].map((l) => l.textContent).join(' ');
    if (el.getAttribute('title')) return el.getAttribute('title');
    return textOf(el);
  };

  document.querySelectorAll('input:not([type=hidden]), select, textarea').forEach((el) => {
    if (!nameOf(el).trim()) problems.push(`${describe(el)} has no label`);
    if (el.labels && el.labels.length === 0 && !el.getAttribute('aria-label')
        && !el.getAttribute('aria-labelledby')) {
      problems.push(`${describe(el)} has no <label for> (placeholders are not labels)`);
    }
  });
  document.querySelectorAll('button, summary, a[href], [role=button]').forEach((el) => {
    if (!nameOf(el).trim()) problems.push(`${describe(el)} has no accessible name`);
  });
  document.querySelectorAll('svg').forEach((el) => {
    if (el.closest('[aria-hidden=true]')) return;
    const title = el.querySelector(':scope > title');
    if (!title || !title.textContent.trim()) {
      problems.push(`${describe(el)} is neither aria-hidden nor titled`);
    }
    if (el.getAttribute('role') !== 'img') problems.push(`${describe(el)} lacks role="img"`);
  });
  document.querySelectorAll('img').forEach((el) => {
    if (!el.hasAttribute('alt')) problems.push(`${describe(el)} has no alt`);
  });
  document.querySelectorAll('form').forEach((el) => {
    // A form with a visible heading of its own should be named by it (role=form needs a name).
    if (el.hasAttribute('aria-labelledby') && !byIds(el.getAttribute('aria-labelledby')).trim()) {
      problems.push(`${describe(el)} points aria-labelledby at nothing`);
    }
  });
  document.querySelectorAll('[aria-describedby], [aria-labelledby]').forEach((el) => {
    for (const attr of ['aria-describedby', 'aria-labelledby']) {
      for (const id of (el.getAttribute(attr) || '').split(/\\s+/).filter(Boolean)) {
        if (!document.getElementById(id)) {
          problems.push(`${describe(el)} ${attr} names missing #${id}`);
        }
      }
    }
  });
  const seen = new Map();
  document.querySelectorAll('[id]').forEach((el) => {
    seen.set(el.id, (seen.get(el.id) || 0) + 1);
  });
  seen.forEach((count, id) => {
    if (count > 1) problems.push(`id "${id}" is used ${count} times`);
  });
  if (document.querySelectorAll('h1').length !== 1) {
    problems.push('the page needs exactly one <h1>');
  }
  if (!document.querySelector('main')) problems.push('the page has no <main>');
  return problems;
}
"""

# WCAG AA contrast of every visible piece of text (and of placeholders) against the background
# it is drawn on: 4.5:1, or 3:1 for large text (24px, or 18.66px bold). Disabled controls are
# exempt, as WCAG exempts them.
TEXT_CONTRAST = """
() => {
  const parse = (value) => {
    const m = value.match(/rgba?\\(([^)]+)\\)/);
    if (!m) return null;
    const parts = m[1].split(/[\\s,\\/]+/).filter(Boolean).map(Number);
    return { r: parts[0], g: parts[1], b: parts[2], a: parts.length > 3 ? parts[3] : 1 };
  };
  const over = (top, bottom) => {
    const a = top.a;
    return {
      r: top.r * a + bottom.r * (1 - a),
      g: top.g * a + bottom.g * (1 - a),
      b: top.b * a + bottom.b * (1 - a),
      a: 1,
    };
  };
  const background = (el) => {
    const layers = [];
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      const c = parse(getComputedStyle(node).backgroundColor);
      if (c && c.a > 0) {
        layers.push(c);
        if (c.a >= 1) break;
      }
    }
    let color = { r: 255, g: 255, b: 255, a: 1 };
    for (let i = layers.length - 1; i >= 0; i--) color = over(layers[i], color);
    return color;
  };
  const luminance = ({ r, g, b }) => {
    const f = (v) => {
      v /= 255;
      return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (a, b) => {
    const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
    return (hi + 0.05) / (lo + 0.05);
  };
  const visible = (el) => {
    const style = getComputedStyle(el);
    if (style.visibility === 'hidden' || style.display === 'none') return false;
    const box = el.getBoundingClientRect();
    if (box.width < 2 || box.height < 2) return false;  // visually-hidden text
    return !el.closest('[hidden], .visually-hidden');
  };
  const problems = [];
  const checked = new Set();
  const check = (el, color, what) => {
    const style = getComputedStyle(el);
    const size = parseFloat(style.fontSize);
    const bold = parseInt(style.fontWeight, 10) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    const need = large ? 3 : 4.5;
    let opacity = 1;
    for (let node = el; node && node.nodeType === 1; node = node.parentElement) {
      opacity *= parseFloat(getComputedStyle(node).opacity);
    }
    const bg = background(el);
    const fg = over({ ...color, a: color.a * opacity }, bg);
    const r = ratio(fg, bg);
    if (r < need) {
      const label = (el.textContent || el.getAttribute('placeholder') || '').trim().slice(0, 40);
      const cls = el.getAttribute('class') || '';
      const tag = `<${el.tagName.toLowerCase()} class="${cls}">`;
      problems.push(`${what} "${label}" in ${tag}: contrast ${r.toFixed(2)}:1, needs ${need}:1`);
    }
  };
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode;
    if (!node.textContent.trim()) continue;
    const el = node.parentElement;
    if (!el || checked.has(el)) continue;
    checked.add(el);
    const skip = 'script, style, title, desc, option, [aria-hidden=true], [aria-disabled=true]';
    if (el.closest(skip) || el.closest(':disabled')) continue;
    if (!visible(el)) continue;
    const style = getComputedStyle(el);
    const inSvg = el instanceof SVGElement;
    const color = parse(inSvg ? style.fill : style.color);
    if (!color) continue;
    check(el, color, 'text');
  }
  document.querySelectorAll('input[placeholder], textarea[placeholder]').forEach((el) => {
    if (!visible(el) || el.value) return;
    const color = parse(getComputedStyle(el, '::placeholder').color);
    if (color) check(el, color, 'placeholder');
  });
  return problems;
}
"""
