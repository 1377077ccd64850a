/* The job form's next-runs preview: ask the server again whenever a schedule
   field changes, and show only the field of the chosen kind of schedule. */
(function () {
    "use strict";
    var FIELDS = ["name", "schedule_type", "cron", "every", "at", "solar", "timezone", "start", "end",
                  "shared_calendar", "exclude", "holidays", "business_days", "on_excluded",
                  "after", "when"];
    var KINDS = ["cron", "every", "at", "solar"];

    function start() {
        var box = document.getElementById("tw-preview");
        var form = document.getElementById("job_form");
        if (!box || !form || !box.dataset.url) {
            return;
        }
        var body = box.querySelector(".tw-preview-body");
        var timer = null;
        var asked = 0;

        function kind() {
            var chosen = form.querySelector("input[name=schedule_type]:checked");
            return chosen ? chosen.value : "cron";
        }

        function showKind() {
            KINDS.forEach(function (name) {
                var row = form.querySelector(".field-" + name);
                if (row) {
                    row.hidden = name !== kind();
                }
            });
        }

        function query() {
            var data = new FormData(form);
            var params = new URLSearchParams();
            FIELDS.forEach(function (name) {
                var value = data.get(name);
                if (value !== null) {
                    params.set(name, value);
                }
            });
            if (!params.get("name") && box.dataset.jobName) {
                params.set("name", box.dataset.jobName);
            }
            return params.toString();
        }

        function refresh() {
            var ticket = ++asked;
            box.dataset.state = "loading";
            fetch(box.dataset.url + "?" + query(), {credentials: "same-origin"})
                .then(function (response) {
                    if (!response.ok) {
                        throw new Error("the preview answered " + response.status);
                    }
                    return response.text();
                })
                .then(function (html) {
                    if (ticket === asked) {  // an older answer must not replace a newer one
                        body.innerHTML = html;
                        box.dataset.state = "ready";
                    }
                })
                .catch(function (error) {
                    if (ticket === asked) {
                        body.textContent = "No preview: " + error.message;
                        box.dataset.state = "failed";
                    }
                });
        }

        function soon(event) {
            if (FIELDS.indexOf(event.target.name) < 0) {
                return;
            }
            if (event.target.name === "schedule_type") {
                showKind();
            }
            window.clearTimeout(timer);
            timer = window.setTimeout(refresh, 250);
        }

        form.addEventListener("input", soon);
        form.addEventListener("change", soon);
        showKind();
        refresh();
    }

    if (document.readyState === "loading") {
        document.addEventListener("DOMContentLoaded", start);
    } else {
        start();
    }
})();
