import { run } from './main.js'
import { runPost } from './post.js'

// The same bundle runs the `post:` step: the main step saved isPost in the step state.
void (process.env.STATE_isPost === 'true' ? runPost() : run())
