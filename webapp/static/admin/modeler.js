// The bpmn-js modeler on the admin edit page: load a version, validate it on the server and
// mark the elements with problems, deploy it as a new version. Every message shown comes from
// the page's data-msg-* attributes (translated server-side).
(function () {
  "use strict";
  const root = document.getElementById("modeler-app");
  if (!root || !window.HotlineModeler) return;
  const msg = (name) => root.dataset["msg" + name] || name;
  const status = document.getElementById("modeler-status");
  const list = document.getElementById("issues");
  const buttons = [...root.querySelectorAll("button")];
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  // bpmn-js with the properties panel (vendor/hotline-modeler, bundled by `npm run assets`)
  const hotline = { catalog: null, checkUrl: root.dataset.checkUrl, csrf };
  const modeler = window.HotlineModeler.create({
    container: "#canvas",
    propertiesParent: "#properties",
    lang: document.documentElement.lang.startsWith("en") ? "en" : "zh",
    hotline,
  });
  let marked = [];
  // tooltips: bpmn-js names its palette and context pad entries for screen readers only
  // (aria-label); the same words (translated) as a pointer's tooltip
  const titled = (selector) =>
    document.querySelectorAll(selector).forEach((entry) => {
      if (!entry.title && entry.getAttribute("aria-label")) entry.title = entry.getAttribute("aria-label");
    });
  modeler.get("eventBus").on(["import.done", "contextPad.open", "elements.changed"], () =>
    setTimeout(() => titled(".djs-palette .entry, .djs-context-pad .entry"), 0)
  );
  // unsaved changes: the command stack's position when the diagram was loaded or deployed
  let savedAt = 0;
  const dirty = () => modeler.get("commandStack")._stackIdx + 1 !== savedAt;
  window.addEventListener("beforeunload", (event) => {
    if (dirty()) {
      event.preventDefault();
      event.returnValue = msg("Unsaved");
    }
  });

  function say(text, isError) {
    status.textContent = text;
    status.className = isError ? "error-message" : "";
  }

  function clearIssues() {
    const canvas = modeler.get("canvas");
    const registry = modeler.get("elementRegistry");
    // an element marked last time may have been deleted since
    marked.filter((id) => registry.get(id)).forEach((id) => canvas.removeMarker(id, "invalid"));
    marked = [];
    modeler.get("overlays").remove({ type: "issue" });
    list.replaceChildren();
    list.hidden = true;
  }

  // issues: [{element, line, message, text}] as the server's JSON endpoints return them
  function showIssues(issues) {
    clearIssues();
    const canvas = modeler.get("canvas");
    const registry = modeler.get("elementRegistry");
    const overlays = modeler.get("overlays");
    const counts = {};
    for (const issue of issues) {
      const li = document.createElement("li");
      li.textContent = issue.text || issue.message;
      const element = issue.element && registry.get(issue.element);
      if (element) {
        li.dataset.element = issue.element;
        li.addEventListener("click", () => {
          modeler.get("selection").select(element);
          canvas.scrollToElement(element);
        });
        if (!marked.includes(issue.element)) {
          canvas.addMarker(issue.element, "invalid");
          marked.push(issue.element);
        }
        counts[issue.element] = (counts[issue.element] || []).concat(issue.message);
      }
      list.appendChild(li);
    }
    for (const [id, messages] of Object.entries(counts)) {
      const badge = document.createElement("div");
      badge.className = "issue-badge";
      badge.textContent = messages.length > 1 ? `! ${messages.length}` : "!";
      badge.title = messages.join("\n");
      overlays.add(id, "issue", { position: { top: -12, right: 12 }, html: badge });
    }
    list.hidden = issues.length === 0;
  }

  async function currentXml() {
    const { xml } = await modeler.saveXML({ format: true });
    if (new Blob([xml]).size > Number(root.dataset.maxBytes || Infinity)) {
      throw new Error(msg("TooLarge"));
    }
    return xml;
  }

  async function post(url) {
    const xml = await currentXml();
    const response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ xml, file_name: root.dataset.fileName }),
    });
    let body = null;
    try { body = await response.json(); } catch (_) { body = null; }
    if (!body) throw new Error(msg("Failed") + ` (HTTP ${response.status})`);
    return body;
  }

  async function busy(text, action) {
    buttons.forEach((b) => (b.disabled = true));
    say(text, false);
    try {
      await action();
    } catch (err) {
      say(err.message || msg("Failed"), true);
    } finally {
      buttons.forEach((b) => (b.disabled = false));
    }
  }

  document.getElementById("validate-button").addEventListener("click", () =>
    busy(msg("Checking"), async () => {
      const body = await post(root.dataset.validateUrl);
      showIssues(body.issues || []);
      if (body.ok) say(msg("Valid"), false);
      else say(body.message || msg("Invalid"), true);
    })
  );

  // modeler_deploy.js first shows the diff against the latest version and asks for a comment
  document.getElementById("deploy-button").addEventListener("click", () =>
    busy(msg("Previewing"), async () => {
      const comment = await window.hotlineModeler.askDeployComment();
      if (comment === null) return;
      say(msg("Deploying"), false);
      const xml = await currentXml();
      const response = await fetch(root.dataset.deployUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ xml, file_name: root.dataset.fileName, comment }),
      });
      let body = null;
      try { body = await response.json(); } catch (_) { body = null; }
      if (!body) throw new Error(msg("Failed") + ` (HTTP ${response.status})`);
      showIssues(body.issues || []);
      if (!body.ok) {
        say(body.message || msg("Invalid"), true);
        return;
      }
      savedAt = modeler.get("commandStack")._stackIdx + 1;
      status.replaceChildren();
      status.className = "";
      for (const outcome of body.outcomes) {
        const a = document.createElement("a");
        a.href = outcome.url;
        a.textContent = outcome.message;
        status.append(a, " ");
      }
    })
  );

  document.getElementById("download-button").addEventListener("click", () =>
    busy("", async () => {
      const xml = await currentXml();
      const a = document.createElement("a");
      a.href = URL.createObjectURL(new Blob([xml], { type: "application/xml" }));
      a.download = root.dataset.fileName || "diagram.bpmn";
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 1000);
      say("", false);
    })
  );

  busy(msg("Loading"), async () => {
    const response = await fetch(root.dataset.xmlUrl, { headers: { Accept: "application/xml" } });
    if (!response.ok) throw new Error(msg("LoadFailed") + ` (HTTP ${response.status})`);
    try {
      await modeler.importXML(await response.text());
    } catch (err) {
      throw new Error(msg("LoadFailed") + ` (${err.message})`);
    }
    modeler.get("canvas").zoom("fit-viewport");
    savedAt = modeler.get("commandStack")._stackIdx + 1;
    if (root.dataset.catalogUrl) {
      const answer = await fetch(root.dataset.catalogUrl, { headers: { Accept: "application/json" } });
      if (answer.ok) {
        // the modeler keeps its own copy of its configuration
        modeler.get("config.hotline").catalog = await answer.json();
        modeler.get("eventBus").fire("propertiesPanel.providersChanged");
      }
    }
    say("", false);
    root.dispatchEvent(new CustomEvent("modeler:ready", { detail: window.hotlineModeler }));
  });

  // for the modeler's other scripts (panels, try-before-deploy): one shared instance
  const markSaved = () => (savedAt = modeler.get("commandStack")._stackIdx + 1);
  window.hotlineModeler = {
    modeler, root, say, busy, showIssues, clearIssues, currentXml, msg, csrf, dirty, markSaved,
  };
})();
