function render({ model, el }) {
  const box = document.createElement("div");
  box.className = "humal-words";
  box.tabIndex = 0;
  box.setAttribute("data-lm-suppress-shortcuts", "true");  // JupyterLab: our keys are ours
  box.setAttribute("aria-label", "words: click or drag to highlight");
  el.appendChild(box);
  let selected = new Set(model.get("selected"));
  let drag = null;  // {on: highlight or clear, last: word index}

  function draw() {
    box.replaceChildren();
    model.get("words").forEach((word, i) => {
      if (i) box.appendChild(document.createTextNode(" "));
      const span = document.createElement("span");
      span.className = "humal-word";
      span.dataset.index = String(i);
      span.textContent = word;  // text, never HTML
      box.appendChild(span);
    });
    paint();
  }
  function paint() {
    box.classList.toggle("is-disabled", model.get("disabled"));
    for (const span of box.querySelectorAll(".humal-word")) {
      const on = selected.has(Number(span.dataset.index));
      span.classList.toggle("is-selected", on);
      span.setAttribute("aria-pressed", on ? "true" : "false");
    }
  }
  function wordAt(event) {
    const hit = document.elementFromPoint(event.clientX, event.clientY);
    const span = hit && hit.closest ? hit.closest(".humal-word") : null;
    return span && box.contains(span) ? Number(span.dataset.index) : null;
  }
  function apply(from, to) {
    for (let i = Math.min(from, to); i <= Math.max(from, to); i++) {
      if (drag.on) selected.add(i); else selected.delete(i);
    }
    paint();
  }
  function commit() {
    model.set("selected", [...selected].sort((a, b) => a - b));
    model.save_changes();
  }
  function onDown(event) {
    box.focus({ preventScroll: true });
    if (event.button !== 0 || model.get("disabled")) return;
    const index = wordAt(event);
    if (index === null) return;
    event.preventDefault();
    drag = { on: !selected.has(index), last: index };
    apply(index, index);
  }
  function onMove(event) {
    if (!drag) return;
    const index = wordAt(event);
    if (index === null || index === drag.last) return;
    apply(drag.last, index);
    drag.last = index;
  }
  function onUp() {
    if (!drag) return;
    drag = null;
    commit();
  }
  function onKey(event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const shortcuts = model.get("shortcuts");
    if (!Object.prototype.hasOwnProperty.call(shortcuts, event.key)) return;
    const action = shortcuts[event.key];
    event.preventDefault();
    event.stopPropagation();
    model.send({ action });
  }
  function onWords() { selected = new Set(model.get("selected")); draw(); }
  function onSelected() { if (!drag) { selected = new Set(model.get("selected")); paint(); } }
  function onMessage(msg) { if (msg && msg.focus) box.focus({ preventScroll: true }); }

  box.addEventListener("pointerdown", onDown);
  box.addEventListener("keydown", onKey);
  window.addEventListener("pointermove", onMove);
  window.addEventListener("pointerup", onUp);
  window.addEventListener("pointercancel", onUp);
  model.on("change:words", onWords);
  model.on("change:selected", onSelected);
  model.on("change:disabled", paint);
  model.on("msg:custom", onMessage);
  draw();
  return () => {
    window.removeEventListener("pointermove", onMove);
    window.removeEventListener("pointerup", onUp);
    window.removeEventListener("pointercancel", onUp);
    model.off("change:words", onWords);
    model.off("change:selected", onSelected);
    model.off("change:disabled", paint);
    model.off("msg:custom", onMessage);
  };
}
export default { render };
