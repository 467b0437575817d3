/* Pillarbox admin page: small comforts only; every form works without it.
 * Buttons with data-confirm ask before a destructive POST. */
"use strict";
document.addEventListener("submit", function (ev) {
    var b = ev.submitter || ev.target.querySelector("[data-confirm]");
    var q = b && b.getAttribute("data-confirm");
    if (q && !window.confirm(q))
        ev.preventDefault();
});
