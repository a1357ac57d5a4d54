// The dispatch form's department picker (docs/lists.md), over the plain selects the server
// renders (which work without this script):
//   lead department   the select's options regrouped (city bureaus; each district platform
//                     with its street offices), and a box above it that filters them as you type
//   co-handlers       the multi-select (Ctrl+click) replaced by grouped checkboxes with the same
//                     filter box and the chosen units as chips, each removable; the select stays
//                     in the form, hidden, and is what is submitted
// The groups come from <script type="application/json" id="department-tree">: [{code, group,
// depth}] in order; the labels of the added controls from its data-* attributes.
(function () {
  "use strict";
  var source = document.getElementById("department-tree");
  if (!source) { return; }
  var tree;
  try { tree = JSON.parse(source.textContent); } catch (e) { return; }
  var text = source.dataset;
  var counter = 0;

  function norm(s) { return (s || "").toLowerCase().replace(/\s+/g, ""); }

  function matches(query, option) {
    if (!query) { return true; }
    return norm(option.textContent).indexOf(query) >= 0 || norm(option.value).indexOf(query) >= 0;
  }

  function filterBox(id) {
    var input = document.createElement("input");
    input.type = "search";
    input.className = "dept-filter";
    input.id = id;
    input.placeholder = text.filterLabel;
    input.setAttribute("aria-label", text.filterLabel);
    input.autocomplete = "off";
    return input;
  }

  function noMatch() {
    var p = document.createElement("p");
    p.className = "hint dept-none";
    p.setAttribute("role", "status");
    p.textContent = text.noMatch;
    p.hidden = true;
    return p;
  }

  // options of a select by code, in the tree's order and groups ([group, [option, depth]])
  function grouped(select) {
    var byCode = {};
    Array.prototype.forEach.call(select.options, function (o) { if (o.value) { byCode[o.value] = o; } });
    var groups = [];
    var seen = {};
    tree.forEach(function (unit) {
      var option = byCode[unit.code];
      if (!option) { return; }
      seen[unit.code] = true;
      var last = groups[groups.length - 1];
      if (!last || last[0] !== unit.group) { last = [unit.group, []]; groups.push(last); }
      last[1].push([option, unit.depth]);
    });
    var rest = Object.keys(byCode).filter(function (c) { return !seen[c]; });
    if (rest.length) { groups.push(["", rest.map(function (c) { return [byCode[c], 0]; })]); }
    return groups;
  }

  function enhanceLead(select) {
    var groups = grouped(select);
    groups.forEach(function (g) {
      var holder = select;
      if (g[0]) {
        holder = document.createElement("optgroup");
        holder.label = g[0];
        select.appendChild(holder);
      }
      g[1].forEach(function (pair) {
        if (pair[1]) { pair[0].textContent = "\u2003" + pair[0].textContent.trim(); }
        holder.appendChild(pair[0]);
      });
    });
    var input = filterBox("dept-filter-" + (++counter));
    var none = noMatch();
    select.parentNode.insertBefore(input, select);
    select.parentNode.insertBefore(none, select.nextSibling);
    input.setAttribute("aria-controls", select.id);
    input.addEventListener("input", function () {
      var q = norm(input.value);
      var shown = 0;
      Array.prototype.forEach.call(select.options, function (o) {
        var match = o.value && matches(q, o);
        o.hidden = !(match || !o.value || o.selected);  // the chosen unit stays visible
        if (match) { shown++; }
      });
      Array.prototype.forEach.call(select.querySelectorAll("optgroup"), function (og) {
        og.hidden = !Array.prototype.some.call(og.children, function (o) { return !o.hidden; });
      });
      none.hidden = shown > 0 || !q;
    });
    // Enter in the box picks the first unit shown (keyboard.js then moves on)
    input.addEventListener("keydown", function (e) {
      if (e.key !== "Enter") { return; }
      var first = Array.prototype.find.call(select.options, function (o) { return o.value && !o.hidden; });
      if (first && input.value) { select.value = first.value; select.dispatchEvent(new Event("change", { bubbles: true })); }
    });
  }

  function enhanceCo(select) {
    var groups = grouped(select);
    var box = document.createElement("div");
    box.className = "dept-picker";
    var input = filterBox("dept-filter-" + (++counter));
    var chips = document.createElement("ul");
    chips.className = "dept-chips";
    chips.setAttribute("aria-label", text.chosenLabel);
    chips.setAttribute("aria-live", "polite");
    var list = document.createElement("div");
    list.className = "dept-groups";
    var none = noMatch();
    var boxes = [];

    groups.forEach(function (g) {
      var set = document.createElement("fieldset");
      set.className = "dept-group";
      if (g[0]) {
        var legend = document.createElement("legend");
        legend.textContent = g[0];
        set.appendChild(legend);
      }
      g[1].forEach(function (pair) {
        var option = pair[0];
        var label = document.createElement("label");
        label.className = "choice dept-choice" + (pair[1] ? " dept-child" : "");
        var check = document.createElement("input");
        check.type = "checkbox";
        check.value = option.value;
        check.checked = option.selected;
        check.dataset.deptPick = "";
        check.addEventListener("change", function () {
          option.selected = check.checked;
          drawChips();
        });
        label.appendChild(check);
        label.appendChild(document.createTextNode(" " + option.textContent.trim()));
        set.appendChild(label);
        boxes.push([check, option, label]);
      });
      list.appendChild(set);
    });

    function drawChips() {
      chips.textContent = "";
      var chosen = boxes.filter(function (b) { return b[0].checked; });
      if (!chosen.length) {
        var empty = document.createElement("li");
        empty.className = "hint";
        empty.textContent = text.noneChosen;
        chips.appendChild(empty);
      }
      chosen.forEach(function (b) {
        var li = document.createElement("li");
        li.className = "dept-chip";
        li.appendChild(document.createTextNode(b[1].textContent.trim() + " "));
        var remove = document.createElement("button");
        remove.type = "button";
        remove.className = "link";
        remove.textContent = "×";
        remove.setAttribute("aria-label", text.removeLabel.replace("{name}", b[1].textContent.trim()));
        remove.addEventListener("click", function () {
          b[0].checked = false;
          b[1].selected = false;
          drawChips();
          input.focus();
        });
        li.appendChild(remove);
        chips.appendChild(li);
      });
    }

    input.addEventListener("input", function () {
      var q = norm(input.value);
      var shown = 0;
      boxes.forEach(function (b) {
        var show = matches(q, b[1]);
        b[2].hidden = !show;
        if (show) { shown++; }
      });
      Array.prototype.forEach.call(list.querySelectorAll("fieldset"), function (set) {
        set.hidden = !Array.prototype.some.call(set.querySelectorAll("label"), function (l) { return !l.hidden; });
      });
      none.hidden = shown > 0;
    });

    box.appendChild(chips);
    box.appendChild(input);
    box.appendChild(none);
    box.appendChild(list);
    select.hidden = true;  // still submitted: its options follow the checkboxes
    select.setAttribute("aria-hidden", "true");
    select.tabIndex = -1;
    select.parentNode.insertBefore(box, select.nextSibling);
    var label = document.querySelector('label[for="' + select.id + '"]');
    if (label) { label.setAttribute("for", input.id); }
    drawChips();
  }

  var lead = document.querySelector("form.task-form select[name=lead_department]");
  if (lead) { enhanceLead(lead); }
  var co = document.querySelector("form.task-form select[name=co_departments][multiple]");
  if (co) { enhanceCo(co); }
})();
