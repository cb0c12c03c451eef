/**
 * A tiny element builder. Text always goes in as text nodes (never innerHTML), so
 * nothing a user or server writes can become markup.
 */
type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'class') el.className = String(value);
    else if (value === true) el.setAttribute(key, '');
    else el.setAttribute(key, String(value));
  }
  append(el, ...children);
  return el;
}

export function append(parent: Node, ...children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    parent.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c);
  }
}

export function clear(el: Element): void {
  while (el.firstChild) el.removeChild(el.firstChild);
}

export function replace(el: Element, ...children: Child[]): void {
  clear(el);
  append(el, ...children);
}

let uid = 0;
export function id(prefix: string): string {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled form field with help text and an error slot, wired for screen readers. */
export function field(opts: {
  label: string;
  name: string;
  type?: string;
  value?: string;
  help?: string;
  required?: boolean;
  autocomplete?: string;
  pattern?: string;
  maxlength?: number;
  inputmode?: string;
}): { wrap: HTMLDivElement; input: HTMLInputElement; error: HTMLParagraphElement } {
  const inputId = id(opts.name);
  const helpId = `${inputId}-help`;
  const errId = `${inputId}-err`;
  const input = h('input', {
    id: inputId,
    name: opts.name,
    type: opts.type ?? 'text',
    required: opts.required,
    autocomplete: opts.autocomplete,
    pattern: opts.pattern,
    maxlength: opts.maxlength,
    inputmode: opts.inputmode,
    'aria-describedby': [opts.help ? helpId : '', errId].filter(Boolean).join(' '),
    spellcheck: 'false',
  });
  if (opts.value !== undefined) input.value = opts.value;
  const error = h('p', { id: errId, class: 'field-error', 'aria-live': 'polite' });
  const wrap = h(
    'div',
    { class: 'field' },
    h('label', { for: inputId }, opts.label),
    input,
    opts.help ? h('p', { id: helpId, class: 'help' }, opts.help) : null,
    error,
  );
  return { wrap, input, error };
}

export function setFieldError(f: { input: HTMLInputElement; error: HTMLElement }, message: string | null): void {
  f.error.textContent = message ?? '';
  if (message) f.input.setAttribute('aria-invalid', 'true');
  else f.input.removeAttribute('aria-invalid');
}
