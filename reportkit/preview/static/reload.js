// The preview's reload script (served to preview pages only: the web edition that
// `build` writes has no script). It listens to the preview's events; when the page it
// shows has changed, it remembers the place being read and loads the page again, and
// the new page scrolls back to that place.
(function () {
  'use strict';
  var meta = document.querySelector('meta[name="preview-version"]');
  if (!meta || !window.EventSource) { return; }
  var page = meta.getAttribute('data-page');
  var version = meta.getAttribute('content');
  var key = 'preview-place:' + page;

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

  function restore() {
    var saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(key) || 'null'); } catch (e) { saved = null; }
    sessionStorage.removeItem(key);
    if (!saved) { return; }
    var element = saved.id && document.getElementById(saved.id);
    var y = element ? element.getBoundingClientRect().top + window.scrollY + saved.offset : saved.y;
    window.scrollTo(0, y);
  }
  if (document.readyState === 'complete') { restore(); } else { window.addEventListener('load', restore); }

  var source = new EventSource('/_preview/events?page=' + encodeURIComponent(page));
  source.addEventListener('version', function (event) {
    if (event.data !== version) {
      try { sessionStorage.setItem(key, JSON.stringify(place())); } catch (e) { /* private mode */ }
      source.close();
      window.location.reload();
    }
  });
})();
