// Renderer entry: mounts the Vue app with Pinia. Everything the app knows comes through window.api (see api.ts).
import './styles/base.css'
import { createPinia } from 'pinia'
import { createApp } from 'vue'
import App from './App.vue'

createApp(App).use(createPinia()).mount('#app')
