# Bash completion, installed where bash-completion looks (configure: --with-bash-completion-dir); and the Debian
# packaging, shipped in the tarball so a release can be packaged. Included from Makefile.am.
dist_bashcompletion_DATA = %D%/bbgitops
EXTRA_DIST += debian/changelog debian/control debian/copyright debian/rules debian/source/format \
	debian/bbgitops.lintian-overrides debian/bbgitops.sysusers debian/bbgitops.tmpfiles \
	debian/postinst debian/postrm debian/prerm debian/README.Debian
