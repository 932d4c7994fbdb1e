package scripting

// LibraryCode is the code of the function's library (shebang included),
// for backed mode, which runs it in L2.
func (f *Function) LibraryCode() string { return f.lib.Code }
