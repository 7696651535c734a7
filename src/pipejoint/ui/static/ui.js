// pipejoint dashboard: start a populate without leaving the page and show its progress live.
document.querySelectorAll("form.populate").forEach(function (form) {
  var status = form.querySelector(".run-status");
  function poll() {
    fetch(form.dataset.progress, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (data) {
      var p = data.progress, run = data.run;
      var text = p ? "made " + p.made + "/" + p.total + ", errors " + p.errors : data.rows + " rows";
      if (run) { text = run.state + ": " + text + (run.message ? " (" + run.message + ")" : ""); }
      status.textContent = text;
      if (run && run.state === "running") { setTimeout(poll, 400); }
    });
  }
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    fetch(form.action, {method: "POST", body: new FormData(form), credentials: "same-origin"}).then(function (r) {
      if (!r.ok) { return r.text().then(function (t) { status.textContent = t; }); }
      status.textContent = "running";
      poll();
    });
  });
});
