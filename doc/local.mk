# Manual pages (mdoc): the command line, the configuration file, installing the hooks. Included from Makefile.am.
dist_man_MANS = %D%/bbgitops.1 %D%/bbgitops.conf.5 %D%/bbgitops-hooks.7
