# Bash completion, installed where bash-completion looks (configure: --with-bash-completion-dir); and the Debian
# packaging, shipped in the tarball so a release can be packaged. Included from Makefile.am.
dist_bashcompletion_DATA = %D%/bbgitops
