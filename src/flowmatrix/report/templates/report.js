/* flowmatrix report: filter, sort and page the flow matrix. Builds no markup from strings, fetches nothing. */
(function () {
  "use strict";
  var table = document.getElementById("flows");
  if (!table) { return; }
  var tbody = table.tBodies[0];
  var text = JSON.parse(document.getElementById("fm-i18n").textContent);
  var data = JSON.parse(document.getElementById("fm-flows").textContent);
  var form = document.getElementById("filters");
  var controls = {
    fw: document.getElementById("f-fw"),
    role: document.getElementById("f-role"),
    port: document.getElementById("f-port"),
    status: document.getElementById("f-status"),
    text: document.getElementById("f-text")
  };
  var sizeControl = document.getElementById("f-size");
  var shown = document.getElementById("shown");
  var empty = document.getElementById("empty");
  var pager = document.getElementById("pager");
  var pageInfo = document.getElementById("page-info");
  var printNote = document.getElementById("print-filter");
  var cards = document.querySelectorAll("button.card[data-status]");
  var headers = table.tHead.rows[0].cells;
  var collator = new Intl.Collator(document.documentElement.lang || undefined, { numeric: true, sensitivity: "base" });

  var C = {};
  data.columns.forEach(function (name, index) { C[name] = index; });
  var rows = data.rows;
  var total = rows.length;

  /* A sentence of the page's language with its {placeholders} filled in. */
  function say(template, values) {
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : whole;
    });
  }
  /* The singular (0) or plural (1) form for n: French counts 0 and 1 as singular. */
  function pluralForm(n) { return text.lang === "fr" ? (n > 1 ? 1 : 0) : (n === 1 ? 0 : 1); }

  var state = { order: rows.map(function (_, i) { return i; }), matching: [], page: 0, size: Number(sizeControl.value) };

  /* --- one row, as the HTML template writes it ------------------------------------ */
  function node(tag, className, content) {
    var element = document.createElement(tag);
    if (className) { element.className = className; }
    if (content !== undefined) { element.textContent = content; }
    return element;
  }
  function flowAnchor(id) { return "flow-" + id.replace(/[^A-Za-z0-9_.-]/g, "-"); }
  function endCell(row, side, withFqdn) {
    var td = node("td");
    td.appendChild(document.createTextNode(row[C[side + "_name"]] + " "));
    td.appendChild(node("span", "zone", row[C[side + "_zone"]]));
    td.appendChild(node("span", "sub", row[C[side + "_hosts"]]));
    if (withFqdn && row[C.destination_fqdns]) { td.appendChild(node("span", "sub mono", row[C.destination_fqdns])); }
    td.appendChild(node("span", "sub mono", row[C[side + "_addresses"]]));
    return td;
  }
  function buildRow(row) {
    var tr = node("tr");
    tr.id = flowAnchor(row[C.id]);
    var status = row[C.status];
    var check = node("td");
    var badge = node("span", "badge st-" + status);
    if (row[C.evidence]) { badge.title = row[C.evidence]; }
    var symbol = node("span", "sym", text.symbols[status]);
    symbol.setAttribute("aria-hidden", "true");
    badge.appendChild(symbol);
    badge.appendChild(document.createTextNode(" " + text.statuses[status]));
    check.appendChild(badge);
    if (row[C.port_status].length) {
      var perPort = node("span", "ports-st");
      row[C.port_status].forEach(function (item) {
        perPort.appendChild(node("span", "pst st-" + item[1], item[0] + " " + text.symbols[item[1]]));
      });
      check.appendChild(perPort);
    }
    tr.appendChild(check);
    var requirement = node("td");
    var link = node("a", "", row[C.requirement]);
    link.href = "#" + row[C.href];
    requirement.appendChild(link);
    requirement.appendChild(node("span", "sub mono", row[C.id]));
    tr.appendChild(requirement);
    tr.appendChild(endCell(row, "source", false));
    tr.appendChild(endCell(row, "destination", true));
    tr.appendChild(node("td", "", row[C.protocol]));
    tr.appendChild(node("td", "mono", portsText(row[C.ports])));
    var path = node("td", "", row[C.firewalls].join(" > ") || text.none);
    if (row[C.nat]) { path.appendChild(node("span", "sub mono", row[C.nat])); }
    tr.appendChild(path);
    var description = node("td", "", row[C.description]);
    var catalogStatus = row[C.catalog_status];
    if (catalogStatus !== "current") {
      description.appendChild(document.createTextNode(" "));
      description.appendChild(node("span", "cat " + catalogStatus, text.catalog[catalogStatus] || catalogStatus));
    }
    tr.appendChild(description);
    return tr;
  }

  /* A flow's ports come as inclusive ranges: [[443, 443], [5228, 5230]] -> "443, 5228-5230". */
  function portsText(ranges) {
    return ranges.map(function (r) { return r[0] === r[1] ? String(r[0]) : r[0] + "-" + r[1]; }).join(", ");
  }

  /* --- filtering ---------------------------------------------------------------- */
  var searchText = [];
  function rowText(index) {
    if (searchText[index] === undefined) {
      var row = rows[index];
      searchText[index] = [
        row[C.id], row[C.requirement], text.statuses[row[C.status]], row[C.source_name],
        row[C.source_zone], row[C.source_hosts], row[C.source_addresses], row[C.destination_name],
        row[C.destination_zone], row[C.destination_hosts], row[C.destination_fqdns],
        row[C.destination_addresses], row[C.protocol], portsText(row[C.ports]),
        row[C.firewalls].join(" > "), row[C.nat], row[C.description],
        text.catalog[row[C.catalog_status]] || ""
      ].join(" ").toLowerCase().replace(/\s+/g, " ");
    }
    return searchText[index];
  }
  function wanted() {
    return {
      fw: controls.fw.value,
      role: controls.role.value,
      port: controls.port.value === "" ? null : Number(controls.port.value),
      status: controls.status.value,
      text: controls.text.value.trim()
    };
  }
  function matches(index, want, terms) {
    var row = rows[index];
    if (want.status && row[C.status] !== want.status) { return false; }
    if (want.fw === "-" && row[C.firewalls].length) { return false; }
    if (want.fw && want.fw !== "-" && row[C.firewalls].indexOf(want.fw) < 0) { return false; }
    if (want.role && row[C.source_role] !== want.role && row[C.destination_role] !== want.role) { return false; }
    if (want.port !== null && !row[C.ports].some(function (r) { return r[0] <= want.port && want.port <= r[1]; })) { return false; }
    for (var i = 0; i < terms.length; i++) {
      if (rowText(index).indexOf(terms[i]) < 0) { return false; }
    }
    return true;
  }
  function describe(want) {
    var parts = [];
    Object.keys(controls).forEach(function (key) {
      var control = controls[key];
      if (!control.value.trim()) { return; }
      var value = control.tagName === "SELECT" ? control.options[control.selectedIndex].text : control.value.trim();
      parts.push(say(text.pair, { name: control.parentNode.firstChild.textContent.trim(), value: value }));
    });
    return parts.join(" · ");
  }

  /* --- drawing the page being looked at ----------------------------------------- */
  function pages() { return state.size ? Math.max(1, Math.ceil(state.matching.length / state.size)) : 1; }
  function draw() {
    var count = state.matching.length;
    state.page = Math.min(state.page, pages() - 1);
    var start = state.size ? state.page * state.size : 0;
    var end = state.size ? Math.min(count, start + state.size) : count;
    var fragment = document.createDocumentFragment();
    for (var i = start; i < end; i++) { fragment.appendChild(buildRow(rows[state.matching[i]])); }
    tbody.replaceChildren(fragment);
    shown.textContent = say(text.shown[pluralForm(total)], { shown: count, total: total });
    shown.setAttribute("data-shown", String(count));
    empty.hidden = count !== 0;
    pager.hidden = pages() < 2;
    pageInfo.textContent = say(text.page_info, { page: state.page + 1, pages: pages(), first: count ? start + 1 : 0, last: end });
    var filtered = describe(wanted());
    var note = filtered ? filtered + " — " + count + " / " + total : "";
    if (pages() > 1) { note += (note ? " · " : "") + pageInfo.textContent + " — " + text.print_page; }
    printNote.textContent = note;
  }
  function applyFilters() {
    var want = wanted();
    var terms = want.text.toLowerCase().replace(/\s+/g, " ").split(" ").filter(Boolean);
    state.matching = state.order.filter(function (index) { return matches(index, want, terms); });
    state.page = 0;
    Array.prototype.forEach.call(cards, function (card) {
      card.setAttribute("aria-pressed", String(card.getAttribute("data-status") === want.status));
    });
    draw();
  }

  var pending = null;
  function later() {
    if (pending !== null) { clearTimeout(pending); }
    pending = setTimeout(function () { pending = null; applyFilters(); }, total > 2000 ? 150 : 40);
  }
  ["fw", "role", "port", "status"].forEach(function (key) {
    controls[key].addEventListener("change", applyFilters);
  });
  controls.text.addEventListener("input", later);
  sizeControl.addEventListener("change", function () {
    state.size = Number(sizeControl.value);
    state.page = 0;
    draw();
  });
  form.addEventListener("submit", function (event) { event.preventDefault(); applyFilters(); });
  form.addEventListener("reset", function () { setTimeout(function () { state.size = Number(sizeControl.value); applyFilters(); }, 0); });
  Array.prototype.forEach.call(cards, function (card) {
    card.addEventListener("click", function () {
      var status = card.getAttribute("data-status");
      controls.status.value = controls.status.value === status ? "" : status;
      applyFilters();
      table.scrollIntoView({ block: "start" });
    });
  });
  pager.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-page]");
    if (!button) { return; }
    var last = pages() - 1;
    var moves = { first: 0, previous: state.page - 1, next: state.page + 1, last: last };
    state.page = Math.max(0, Math.min(last, moves[button.getAttribute("data-page")]));
    draw();
    table.scrollIntoView({ block: "start" });
  });

  /* --- sorting: a click on a header sorts by that column, a second click reverses -- */
  var rank = {};
  text.rank.forEach(function (status, index) { rank[status] = index; });
  var sortKeys = [
    function (row) { return rank[row[C.status]]; },
    function (row) { return row[C.id]; },
    function (row) { return row[C.source_name] + " " + row[C.source_hosts]; },
    function (row) { return row[C.destination_name] + " " + row[C.destination_hosts]; },
    function (row) { return row[C.protocol]; },
    function (row) { return row[C.ports][0][0]; },
    function (row) { return row[C.firewalls].join(" > "); },
    function (row) { return row[C.description]; }
  ];
  function sortBy(column) {
    var th = headers[column];
    var ascending = th.getAttribute("aria-sort") !== "ascending";
    var key = sortKeys[column];
    var keys = rows.map(key);
    var numeric = typeof keys[0] === "number";
    state.order = rows.map(function (_, i) { return i; });
    state.order.sort(function (a, b) {
      var order = numeric ? keys[a] - keys[b] : collator.compare(keys[a], keys[b]);
      return (ascending ? order : -order) || a - b;
    });
    Array.prototype.forEach.call(headers, function (other) { other.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    applyFilters();
  }
  Array.prototype.forEach.call(headers, function (th, column) {
    th.querySelector("button").addEventListener("click", function () { sortBy(column); });
  });

  /* --- a link to a flow shows it: clears the filters if they hide it, turns the page -- */
  function revealTarget() {
    var id = decodeURIComponent(location.hash.slice(1));
    if (id.indexOf("flow-") !== 0) { return; }
    var index = -1;
    for (var i = 0; i < total; i++) {
      if (flowAnchor(rows[i][C.id]) === id) { index = i; break; }
    }
    if (index < 0) { return; }
    var at = state.matching.indexOf(index);
    if (at < 0) {
      form.reset();
      applyFilters();
      at = state.matching.indexOf(index);
    }
    if (state.size) { state.page = Math.floor(at / state.size); }
    draw();
    var target = document.getElementById(id);
    if (target) { target.scrollIntoView({ block: "center" }); }
  }
  window.addEventListener("hashchange", revealTarget);

  /* --- printing: every matching row when that stays reasonable --------------------- */
  var sizeBeforePrint = null;
  window.addEventListener("beforeprint", function () {
    if (state.size && state.matching.length <= 2000) {
      sizeBeforePrint = state.size;
      state.size = 0;
      draw();
    }
  });
  window.addEventListener("afterprint", function () {
    if (sizeBeforePrint !== null) {
      state.size = sizeBeforePrint;
      sizeBeforePrint = null;
      draw();
    }
  });

  applyFilters();
  revealTarget();
  table.setAttribute("data-ready", "1");
  document.documentElement.setAttribute("data-ready", "1");
}());
