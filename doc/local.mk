# The operator's kit: manual pages, bash completion, the Debian packaging (issue 14). Included from Makefile.am.
dist_man_MANS = %D%/bbgitops.1 %D%/bbgitops.conf.5 %D%/bbgitops-hooks.7
