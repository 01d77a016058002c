// Renderer entry: mounts the Vue app with Pinia. Everything the app knows comes through window.api (see api.ts).
import './styles/base.css'
import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'
import { vScrollRegion } from './scroll-region'

createApp(App).use(createPinia()).directive('scroll-region', vScrollRegion).mount('#app')
