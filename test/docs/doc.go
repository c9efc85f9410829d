// Package docs checks that the documentation does what it shows. Its tests
// build wasmgate and run the examples of README.md and docs/*.md against
// it with testscript (testdata/*.txtar): the README's first tool is built
// from the README's own code and commands, every console block
// ("$ command" followed by its output) is run and its output compared, and
// the start-up report, health answer and curl session of docs/clients.md
// are compared with a real `make run`-like server. A console block that no
// script checks fails the test too.
//
// Output is compared after normalising what varies between builds and
// machines (versions, hashes, file sizes, ports); a line "..." in the
// documentation stands for any number of lines.
package docs
