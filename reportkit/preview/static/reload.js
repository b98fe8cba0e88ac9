// The preview's reload script (served to preview pages only: the web edition that
// `build` writes has no script). It listens to the preview's events; when the page it
// shows has changed, it fetches the page again and puts the new one in place of the old,
// at the place being read: the style sheets, fonts and unchanged charts stay loaded (a
// page's files are asked for with a mark of their content, so a changed chart has a new
// address). A page whose style sheets changed, or that is no longer there, is loaded
// again as a whole, and the new page scrolls back to the same place.
(function () {
  'use strict';
  var meta = document.querySelector('meta[name="preview-version"]');
  if (!meta || !window.EventSource) { return; }
  var page = meta.getAttribute('data-page');
  var version = meta.getAttribute('content');
  var key = 'preview-place:' + page;
  var wanted = version, busy = false;

  function place() {
    // The element with an id nearest above the top of the window, and how far above.
    var best = null, bestTop = -Infinity;
    var all = document.querySelectorAll('main [id]');
    for (var i = 0; i < all.length; i++) {
      var top = all[i].getBoundingClientRect().top;
      if (top <= 1 && top > bestTop) { best = all[i]; bestTop = top; }
    }
    return {id: best ? best.id : null, offset: best ? -bestTop : 0, y: window.scrollY};
  }

  function goBack(saved) {
    var element = saved.id && document.getElementById(saved.id);
    var y = element ? element.getBoundingClientRect().top + window.scrollY + saved.offset : saved.y;
    window.scrollTo(0, y);
  }

  function restore() {
    var saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(key) || 'null'); } catch (e) { saved = null; }
    sessionStorage.removeItem(key);
    if (saved) { goBack(saved); }
  }
  if (document.readyState === 'complete') { restore(); } else { window.addEventListener('load', restore); }

  function reload() {
    try { sessionStorage.setItem(key, JSON.stringify(place())); } catch (e) { /* private mode */ }
    window.location.reload();
  }

  function sheets(root) {
    var found = [];
    var links = root.querySelectorAll('link[rel="stylesheet"]');
    for (var i = 0; i < links.length; i++) { found.push(links[i].getAttribute('href')); }
    return found.join(' ');
  }

  function replace(html) {
    var next = new DOMParser().parseFromString(html, 'text/html');
    var mark = next.querySelector('meta[name="preview-version"]');
    if (!mark || mark.getAttribute('data-page') !== page || sheets(next) !== sheets(document)) {
      reload();
      return;
    }
    var saved = place();
    document.title = next.title;
    document.body.replaceWith(document.adoptNode(next.body));
    version = mark.getAttribute('content');
    meta.setAttribute('content', version);
    goBack(saved);
  }

  function update() {
    if (busy || wanted === version) { return; }
    if (!window.fetch || !window.DOMParser) { reload(); return; }
    busy = true;
    var asked = wanted;
    fetch(window.location.href, {cache: 'no-store', redirect: 'manual'})
      .then(function (response) {
        if (response.status !== 200) { throw new Error('not the page'); }
        return response.text();
      })
      .then(function (html) {
        busy = false;
        replace(html);
        if (wanted !== asked) { update(); }   // a change that came meanwhile
      })
      .catch(function () { reload(); });
  }

  var source = new EventSource('/_preview/events?page=' + encodeURIComponent(page));
  source.addEventListener('version', function (event) {
    wanted = event.data;
    update();
  });
})();
