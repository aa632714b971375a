"""commsite.serve: the live preview (`commsite serve`).

- changes.py: which file events matter (editor temporaries are ignored) and the debouncer
- watch.py: watchdog observer → debounced sets of changed paths
- server.py: the HTTP server; a shared/exclusive lock so no half-built page is served;
  the Server-Sent Events reload stream; the error page while a build fails
- livereload.py: the build events (which output files changed) and the injected script
  that reloads its page only when the page, or a file every page may load, changed
- errorpage.py: the page shown while a build fails (serve only)
- banner.py: the build's warnings and the preview mark at the top of each served page,
  and the terminal lines when the warnings change (serve only)
- preview.py: ties them to one incremental `commsite.build.Builder`
"""
