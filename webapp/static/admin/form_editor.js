// The form editor page: form-js's editor on one form version; "Save as new version" sends the
// form to the server, which checks it (the same parser that serves it to the task pages, plus
// the fields the hotline reads) and stores it as a new version, or says it is unchanged.
// The palette offers only the component types the server accepts (data-types).
(function () {
  "use strict";
  const root = document.getElementById("form-editor-app");
  if (!root || !window.FormEditor) return;
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const status = document.getElementById("form-status");
  const issues = document.getElementById("form-issues");
  const saveButton = document.getElementById("save-button");
  const comment = document.getElementById("form-comment");
  const allowed = new Set(JSON.parse(root.dataset.types));
  const msg = (name) => root.dataset["msg" + name] || "";

  // form-js's palette lists every registered form field: unregister the ones the server
  // refuses (before the editor first draws its palette)
  function RestrictPalette(formFields) {
    for (const type of Object.keys(formFields._formFields)) {
      if (type !== "default" && !allowed.has(type)) delete formFields._formFields[type];
    }
  }
  RestrictPalette.$inject = ["formFields"];

  const editor = new window.FormEditor.FormEditor({
    container: document.getElementById("form-canvas"),
    additionalModules: [{ __init__: ["hotlineRestrictPalette"], hotlineRestrictPalette: ["type", RestrictPalette] }],
  });
  let original = null; // the form as loaded, sent back when nothing was changed
  let baseline = null; // what the editor exports for it before any change

  function say(text, kind) {
    status.textContent = text;
    status.className = kind || "";
  }

  function showIssues(list) {
    issues.replaceChildren();
    for (const item of list) {
      const li = document.createElement("li");
      li.textContent = item.text || item.message;
      if (item.component) li.dataset.component = item.component;
      issues.append(li);
    }
    issues.hidden = list.length === 0;
  }

  async function load() {
    say(msg("Loading"));
    try {
      const response = await fetch(root.dataset.schemaUrl, { headers: { Accept: "application/json" } });
      if (!response.ok) throw new Error(String(response.status));
      original = await response.json();
      await editor.importSchema(original);
      baseline = JSON.stringify(editor.saveSchema());
      say("");
      root.dataset.ready = "true";
    } catch (error) {
      say(msg("LoadFailed"), "error-message");
    }
  }

  async function save() {
    const current = editor.saveSchema();
    const schema = JSON.stringify(current) === baseline ? original : current;
    saveButton.disabled = true;
    say(msg("Saving"));
    try {
      const response = await fetch(root.dataset.saveUrl, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify({ key: root.dataset.key, schema, comment: comment.value, latest: Number(root.dataset.latest) }),
      });
      const body = await response.json();
      if (body.ok) {
        showIssues([]);
        say(body.message, "ok");
        root.dataset.latest = String(Math.max(Number(root.dataset.latest), body.version));
        if (body.created) {
          original = current;
          baseline = JSON.stringify(current);
          comment.value = "";
        }
      } else {
        showIssues(body.errors || []);
        say(msg("Invalid"), "error-message");
      }
    } catch (error) {
      say(msg("Failed"), "error-message");
    } finally {
      saveButton.disabled = false;
    }
  }

  // a form file from the designer's disk (one `hotline export` or `hotline forms export`
  // wrote, kept in git): opened in the editor, saved like any edit
  const file = document.getElementById("form-file");
  if (file) {
    file.addEventListener("change", async () => {
      const chosen = file.files && file.files[0];
      if (!chosen) return;
      try {
        const schema = JSON.parse(await chosen.text());
        if (!schema || typeof schema !== "object" || !Array.isArray(schema.components)) throw new TypeError();
        await editor.importSchema(schema);
        say(msg("FileLoaded"));
      } catch (error) {
        say(msg("FileBad"), "error-message");
      } finally {
        file.value = "";
      }
    });
  }

  saveButton.addEventListener("click", save);
  load();
})();
