/* commsite default theme: small additions to pages that work without them.
 *
 * - Copy buttons ([data-copy]): shown only where the page may write to the
 *   clipboard; they say "Copied" in a live region.
 * - "Follow from your server" ([data-remote-follow]): the visitor types their
 *   server (mastodon.social, @me@mastodon.social or a URL) and goes to its
 *   remote-follow page, https://SERVER/authorize_interaction?uri=acct:HANDLE.
 *   Without JavaScript the page tells them to search for the handle instead.
 * - The members directory's interest filter ([data-member-filter]): hides the
 *   cards of members not into the chosen interest and says how many are shown.
 *   Without JavaScript the interest links lead to one page per interest.
 *
 * No outside requests; nothing is sent anywhere but where the visitor asks to go.
 */
(function () {
  "use strict";

  var LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
  var SCHEME = /^[a-z][a-z0-9+.-]*:/i;
  var HOST_AND_PORT = /^[^\/:@?#]+:[0-9]{1,5}(?:[\/?#]|$)/;

  /* The host (and port, when not the default) of the server the visitor typed,
   * in ASCII and lower case, or null when it is not a plausible server:
   * "mastodon.social", " @me@Mastodon.Social ", "https://social.example:8443/@me"
   * and "social.example:8443" are; "javascript:alert(1)", "ftp://x.example",
   * "localhost", "user:pass@x.example" and "" are not. */
  function instanceHost(text) {
    var value = String(text == null ? "" : text).replace(/\s+/g, "");
    if (!value || value.length > 512) {
      return null;
    }
    if (/^https?:\/\//i.test(value)) {
      // a URL: its host
    } else if (SCHEME.test(value) && !HOST_AND_PORT.test(value)) {
      return null; // javascript:, data:, mailto:, ftp:// ...
    } else {
      if (value.indexOf("/") !== -1 || value.indexOf("?") !== -1 || value.indexOf("#") !== -1) {
        value = value.split(/[\/?#]/)[0]; // "mastodon.social/explore"
      }
      var at = value.lastIndexOf("@");
      if (at !== -1) {
        value = value.slice(at + 1); // a handle: "@me@host" or "me@host"
      }
      value = "https://" + value;
    }
    var url;
    try {
      url = new URL(value);
    } catch (e) {
      return null;
    }
    if ((url.protocol !== "https:" && url.protocol !== "http:") || url.username || url.password) {
      return null;
    }
    var hostname = url.hostname.replace(/\.$/, "");
    var labels = hostname.split(".");
    if (labels.length < 2 || hostname.length > 253) {
      return null; // a server on the fediverse has a domain name
    }
    for (var i = 0; i < labels.length; i++) {
      if (!LABEL.test(labels[i])) {
        return null;
      }
    }
    if (/^[0-9]+$/.test(labels[labels.length - 1])) {
      return null; // an IP address, not a server's name
    }
    var port = url.port === "443" ? "" : url.port; // "http://host:443" is https://host
    return port ? hostname + ":" + port : hostname;
  }

  /* The remote-follow page for `handle` ("@user@host") on the server `host`
   * (as instanceHost returns it), or null. */
  function followUrl(host, handle) {
    var checked = instanceHost(host);
    var acct = String(handle || "").replace(/^@/, "");
    if (checked === null || checked !== host || !/^[^@\s]+@[^@\s]+$/.test(acct)) {
      return null;
    }
    var url = new URL("https://" + checked + "/authorize_interaction");
    url.searchParams.set("uri", "acct:" + acct);
    return url.protocol === "https:" && url.host === checked ? url.href : null;
  }

  function liveRegion() {
    var region = document.createElement("p");
    region.className = "visually-hidden";
    region.setAttribute("role", "status");
    region.setAttribute("aria-live", "polite");
    document.body.appendChild(region);
    return region;
  }

  function say(region, text) {
    region.textContent = "";
    window.setTimeout(function () {
      region.textContent = text; // a change, so that the same words are read again
    }, 50);
  }

  function setUpCopyButtons() {
    var buttons = document.querySelectorAll("button[data-copy]");
    var clipboard = navigator.clipboard;
    if (!buttons.length || !window.isSecureContext || !clipboard || !clipboard.writeText) {
      return; // the handle stays selectable text
    }
    var region = liveRegion();
    Array.prototype.forEach.call(buttons, function (button) {
      var label = button.firstChild;
      button.addEventListener("click", function () {
        clipboard.writeText(button.getAttribute("data-copy")).then(
          function () {
            say(region, "Copied");
            label.textContent = "Copied";
            button.classList.add("copy-button--done");
            window.setTimeout(function () {
              label.textContent = "Copy";
              button.classList.remove("copy-button--done");
            }, 2000);
          },
          function () {
            say(region, "Could not copy: select the handle and copy it yourself");
          }
        );
      });
      button.hidden = false;
    });
  }

  function setUpRemoteFollow(form) {
    var input = form.querySelector("input");
    var error = form.querySelector(".remote-follow__error");
    var handle = form.getAttribute("data-handle");
    if (!input || !error || !handle) {
      return;
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var host = instanceHost(input.value);
      var target = host === null ? null : followUrl(host, handle);
      if (target === null) {
        input.setAttribute("aria-invalid", "true");
        error.textContent =
          "That does not look like a server's address: type something like mastodon.social.";
        input.focus();
        return;
      }
      input.removeAttribute("aria-invalid");
      error.textContent = "";
      window.location.assign(target);
    });
    input.addEventListener("input", function () {
      if (input.hasAttribute("aria-invalid")) {
        input.removeAttribute("aria-invalid");
        error.textContent = "";
      }
    });
    form.hidden = false;
  }

  function setUpMemberFilter(box) {
    var select = box.querySelector("select");
    var count = box.querySelector(".member-filter__count");
    var cards = document.querySelectorAll("#member-cards [data-interests]");
    if (!select || !count || !cards.length) {
      return;
    }
    function apply() {
      var chosen = select.value;
      var shown = 0;
      Array.prototype.forEach.call(cards, function (card) {
        var into = " " + card.getAttribute("data-interests") + " ";
        var match = !chosen || into.indexOf(" " + chosen + " ") !== -1;
        card.hidden = !match;
        if (match) {
          shown += 1;
        }
      });
      var people = shown === 1 ? "1 person" : shown + " people";
      var name = select.options[select.selectedIndex].text;
      count.textContent = chosen ? people + " into " + name + " shown" : people + " shown";
      var url = new URL(window.location.href);
      if (chosen) {
        url.searchParams.set("interest", chosen);
      } else {
        url.searchParams.delete("interest");
      }
      window.history.replaceState(null, "", url.href);
    }
    var wanted = new URL(window.location.href).searchParams.get("interest");
    if (wanted && select.querySelector('option[value="' + CSS.escape(wanted) + '"]')) {
      select.value = wanted;
    }
    select.addEventListener("change", apply);
    box.hidden = false;
    if (select.value) {
      apply();
    }
  }

  function start() {
    setUpCopyButtons();
    Array.prototype.forEach.call(document.querySelectorAll("form[data-remote-follow]"), setUpRemoteFollow);
    Array.prototype.forEach.call(document.querySelectorAll("[data-member-filter]"), setUpMemberFilter);
  }

  window.commsiteFollow = { instanceHost: instanceHost, followUrl: followUrl };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
