# cmake -P script (see man.cmake): one man page from `pgingest [COMMAND] --help`.
# -DHELP2MAN, -DPGINGEST (the built binary), -DSUBCOMMAND (empty: the top level), -DSUMMARY (the
# NAME line), -DVERSION, -DSEE_ALSO (text of the SEE ALSO section), -DOUTPUT.
if(SUBCOMMAND STREQUAL "")
    set(program pgingest)
    set(help_option --help)
else()
    set(program pgingest-${SUBCOMMAND})
    set(help_option "${SUBCOMMAND} --help")
endif()
set(include_file ${OUTPUT}.include)
file(WRITE ${include_file} "[SEE ALSO]\n${SEE_ALSO}\n")
execute_process(
    COMMAND ${HELP2MAN} --no-info --section=1 "--name=${SUMMARY}" "--help-option=${help_option}"
            "--version-string=${VERSION}" --include=${include_file} --output=${OUTPUT}.tmp
            ${PGINGEST}
    COMMAND_ERROR_IS_FATAL ANY)
# help2man names the page after the executable; a command's page is pgingest-COMMAND, in its
# title and its NAME line (what apropos and whatis read).
file(READ ${OUTPUT}.tmp page)
string(TOUPPER "${program}" title)
string(REGEX REPLACE "\n\\.TH [^ ]+ " "\n.TH ${title} " page "${page}")
string(REPLACE "\n.SH NAME\npgingest \\-" "\n.SH NAME\n${program} \\-" page "${page}")
file(WRITE ${OUTPUT} "${page}")
file(REMOVE ${OUTPUT}.tmp ${include_file})
