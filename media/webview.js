// ModelVet webview script: turns clicks on [data-command] elements into messages for the extension.
// No data is rendered here (the extension renders escaped HTML), so nothing from a scanned file reaches the DOM via script.
(function () {
  const vscode = acquireVsCodeApi();
  document.addEventListener('click', (event) => {
    const target = event.target instanceof Element ? event.target.closest('[data-command]') : null;
    if (!target) return;
    event.preventDefault();
    const message = { type: target.getAttribute('data-command') };
    const path = target.getAttribute('data-path');
    if (path !== null) message.path = path;
    const line = target.getAttribute('data-line');
    if (line !== null && /^\d+$/.test(line)) message.line = Number(line);
    const character = target.getAttribute('data-character');
    if (character !== null && /^\d+$/.test(character)) message.character = Number(character);
    if (target instanceof HTMLButtonElement) target.disabled = true;
    vscode.postMessage(message);
  });
})();
